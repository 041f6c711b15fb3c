#include "bilevel/problems/sudoku_lp.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/eigen_dense.hpp"
#include "bilevel/io/hdf5.hpp"

#include <array>
#include <cmath>
#include <numeric>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kBoard = 1, kInit };
constexpr double kQuadratic = 0.1; // the layer's 0.1 ||y||^2 / 2

using Matrix = Eigen::MatrixXd;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Fisher-Yates permutation of 0..n-1 from draws `offset`, `offset + 1`, ...
std::vector<int> permutation(const CounterRng& rng, int n, std::uint64_t offset) {
  std::vector<int> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(rng.uniform(offset + static_cast<std::uint64_t>(i)) * (i + 1));
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

/// A permuted 2x2-box base board, row-major digits 0..3, and which cells stay as clues.
std::vector<int> random_board(const CounterRng& rng) {
  const auto digits = permutation(rng, 4, 0), bands = permutation(rng, 2, 10),
             stacks = permutation(rng, 2, 20);
  const std::array<std::vector<int>, 2> in_band = {permutation(rng, 2, 30),
                                                   permutation(rng, 2, 40)};
  const std::array<std::vector<int>, 2> in_stack = {permutation(rng, 2, 50),
                                                    permutation(rng, 2, 60)};
  std::vector<int> board(16);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      const int br = 2 * bands[static_cast<std::size_t>(r / 2)] +
                     in_band[static_cast<std::size_t>(r / 2)][static_cast<std::size_t>(r % 2)];
      const int bc = 2 * stacks[static_cast<std::size_t>(c / 2)] +
                     in_stack[static_cast<std::size_t>(c / 2)][static_cast<std::size_t>(c % 2)];
      const int base = (2 * (br % 2) + br / 2 + bc) % 4; // rows 0123, 2301, 1230, 3012
      board[static_cast<std::size_t>(4 * r + c)] = digits[static_cast<std::size_t>(base)];
    }
  return board;
}
} // namespace

SudokuLp::Config SudokuLp::Config::from_options(const RunSpec& run) {
  OptionSection section("problem sudoku_lp");
  Config c{};
  c.split = SampleSplit::from_options(200, 50, "puzzles");
  c.clues = options::get_int("-problem_clues", 8, 0, 16, "given cells per puzzle");
  c.equalities = options::get_int("-problem_eq", 40, 1, 63, "rows of the learned A");
  c.seed = run.seed;
  return c;
}

SudokuLp::SudokuLp(MPI_Comm comm, Config config)
    : QpLayerProblem(comm, config.split), config_(config) {
  const Eigen::Index total = split().train + split().test;
  clues_ = Matrix::Zero(kCells, total);
  solutions_ = Matrix::Zero(kCells, total);
  for (Eigen::Index s = 0; s < total; ++s) {
    const CounterRng rng(static_cast<std::uint64_t>(config_.seed),
                         kBoard * 1000000007ULL + static_cast<std::uint64_t>(s));
    const std::vector<int> board = random_board(rng);
    const std::vector<int> keep = permutation(rng, 16, 100);
    for (int cell = 0; cell < 16; ++cell) {
      const int d = board[static_cast<std::size_t>(cell)];
      solutions_(4 * cell + d, s) = 1.0;
    }
    for (int k = 0; k < config_.clues; ++k) {
      const int cell = keep[static_cast<std::size_t>(k)];
      clues_(4 * cell + board[static_cast<std::size_t>(cell)], s) = 1.0;
    }
  }
}

bool SudokuLp::valid_board(const std::vector<int>& board) {
  auto distinct = [&](auto cell_of) {
    std::array<bool, 4> seen{};
    for (int k = 0; k < 4; ++k) {
      const int d = board[static_cast<std::size_t>(cell_of(k))];
      if (seen[static_cast<std::size_t>(d)])
        return false;
      seen[static_cast<std::size_t>(d)] = true;
    }
    return true;
  };
  for (int i = 0; i < 4; ++i) {
    if (!distinct([&](int k) { return 4 * i + k; }) || !distinct([&](int k) { return 4 * k + i; }))
      return false;
    const int r0 = 2 * (i / 2), c0 = 2 * (i % 2);
    if (!distinct([&](int k) { return 4 * (r0 + k / 2) + c0 + k % 2; }))
      return false;
  }
  return true;
}

SudokuLp::Vector SudokuLp::initial_model() const {
  const CounterRng rng(static_cast<std::uint64_t>(config_.seed), kInit);
  Vector x0 = Vector::Zero(nx()); // z0 = 0: b = A 1
  const Eigen::Index entries = config_.equalities * kCells;
  for (Eigen::Index i = 0; i < entries; ++i)
    x0[i] = rng.uniform(static_cast<std::uint64_t>(i));
  return x0;
}

void SudokuLp::initial_x(Vec x) const {
  scatter_owned(initial_model(), x);
}

DenseQp SudokuLp::sample_qp(const Vector& x, int sample) const {
  const Eigen::Index m = config_.equalities;
  DenseQp qp;
  qp.Q = kQuadratic * Matrix::Identity(kCells, kCells);
  qp.q = -clues_.col(sample);
  qp.G = -Matrix::Identity(kCells, kCells);
  qp.h = Vector::Zero(kCells);
  qp.A = Eigen::Map<const RowMajor>(x.data(), m, kCells);
  qp.b = qp.A * x.tail(kCells).array().exp().matrix();
  return qp;
}

double SudokuLp::sample_loss(int sample, const Vector& y) const {
  return (y - solutions_.col(sample)).squaredNorm() / kCells;
}

SudokuLp::Vector SudokuLp::sample_loss_gradient(int sample, const Vector& y) const {
  return 2.0 * (y - solutions_.col(sample)) / kCells;
}

void SudokuLp::add_model_gradient(const Vector& x, int, const QpLayerGradient& layer,
                                  Vector& grad) const {
  const Eigen::Index m = config_.equalities;
  const Vector e = x.tail(kCells).array().exp();
  Eigen::Map<RowMajor> dA(grad.data(), m, kCells);
  dA += layer.dA + layer.db * e.transpose(); // b = A e
  const Eigen::Map<const RowMajor> A(x.data(), m, kCells);
  grad.tail(kCells) += (A.transpose() * layer.db).cwiseProduct(e);
}

double SudokuLp::lower_residual(Vec x, Vec y) {
  return std::sqrt(sum_over_batch(
      x, y, [this](const Vector& model, int sample, const Eigen::Ref<const Vector>& ys) {
        const DenseQp qp = sample_qp(model, sample);
        return (qp.A * ys - qp.b).squaredNorm() + ys.cwiseMin(0.0).squaredNorm();
      }));
}

void SudokuLp::report_metrics(Vec x, Vec, Record& record) {
  if (split().test == 0)
    return;
  // Per test puzzle: a wrong board (its cell-wise argmax breaks a rule), and the loss.
  const auto sums = sum_over_test_solutions(
      gather_to_all(x), 2,
      [&](int sample, const Vector& y, std::vector<double>& out) {
        std::vector<int> board(16);
        for (int cell = 0; cell < 16; ++cell)
          y.segment(4 * cell, 4).maxCoeff(&board[static_cast<std::size_t>(cell)]);
        out[0] += valid_board(board) ? 0.0 : 1.0;
        out[1] += sample_loss(sample, y);
      },
      record);
  record.set("test_error", sums[0] / static_cast<double>(split().test));
  record.set("test_loss", sums[1] / static_cast<double>(split().test));
}

void SudokuLp::export_data(hid_t group) const {
  const MPI_Comm c = comm();
  // Sample-major (one row per puzzle): the first `train` rows are the training split.
  h5::write_matrix(c, group, "clues", clues_.transpose());
  h5::write_matrix(c, group, "solutions", solutions_.transpose());
  h5::write_vector(c, group, "x0", initial_model());
  h5::write_attribute(group, "train", static_cast<long long>(split().train));
  h5::write_attribute(group, "test", static_cast<long long>(split().test));
  h5::write_attribute(group, "equalities", static_cast<long long>(config_.equalities));
  h5::write_attribute(group, "quadratic", kQuadratic);
}

} // namespace bilevel
