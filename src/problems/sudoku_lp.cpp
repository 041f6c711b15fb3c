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
#include <string>

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

/// The side of a board's boxes: 2 for 4x4, 3 for 9x9.
int box_side(std::size_t cells) {
  return cells == 81 ? 3 : 2;
}

/// A permuted base board of side N = k^2 (boxes k x k), row-major digits 0..N-1. The base board
/// (k (r mod k) + r / k + c) mod N is valid; the digit, band, row-within-band, stack and
/// column-within-stack permutations keep it valid. The 4x4 draws are those of the 4x4-only
/// generator, so its puzzles are unchanged.
std::vector<int> random_board(const CounterRng& rng, int k) {
  const int N = k * k;
  const auto digits = permutation(rng, N, 0), bands = permutation(rng, k, 10),
             stacks = permutation(rng, k, 20);
  std::vector<std::vector<int>> in_band, in_stack;
  for (int i = 0; i < k; ++i) {
    in_band.push_back(permutation(rng, k, 30 + 10 * static_cast<std::uint64_t>(i)));
    in_stack.push_back(permutation(rng, k, 30 + 10 * static_cast<std::uint64_t>(k + i)));
  }
  const auto at = [](const std::vector<int>& v, int i) { return v[static_cast<std::size_t>(i)]; };
  std::vector<int> board(static_cast<std::size_t>(N * N));
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < N; ++c) {
      const int br = k * at(bands, r / k) + at(in_band[static_cast<std::size_t>(r / k)], r % k);
      const int bc = k * at(stacks, c / k) + at(in_stack[static_cast<std::size_t>(c / k)], c % k);
      board[static_cast<std::size_t>(N * r + c)] = at(digits, (k * (br % k) + br / k + bc) % N);
    }
  return board;
}

/// Every sum-to-one rule of an N x N board (boxes k x k), one row each: each cell holds one
/// digit, and each digit appears once in each row, column and box.
Matrix sudoku_rules(int k) {
  const int N = k * k;
  Matrix rules = Matrix::Zero(N * N + 3 * N * N, N * N * N);
  Eigen::Index r = 0;
  for (int cell = 0; cell < N * N; ++cell, ++r)
    rules.row(r).segment(N * cell, N).setOnes();
  for (int d = 0; d < N; ++d)
    for (int i = 0; i < N; ++i, r += 3)
      for (int j = 0; j < N; ++j) {
        const int box_cell = N * (k * (i / k) + j / k) + k * (i % k) + j % k;
        rules(r, N * (N * i + j) + d) = 1.0;     // digit d once in row i
        rules(r + 1, N * (N * j + i) + d) = 1.0; // ... in column i
        rules(r + 2, N * box_cell + d) = 1.0;    // ... in box i
      }
  return rules;
}

/// The first `count` rows of `rows` that are linearly independent of the earlier chosen ones
/// (Gram-Schmidt on the chosen rows); InputError when there are fewer.
Matrix independent_rows(const Matrix& rows, Eigen::Index count) {
  Matrix chosen(count, rows.cols()), basis(count, rows.cols()); // basis: orthonormal
  Eigen::Index found = 0;
  for (Eigen::Index r = 0; r < rows.rows() && found < count; ++r) {
    Eigen::VectorXd v = rows.row(r).transpose();
    for (Eigen::Index b = 0; b < found; ++b) // twice, for orthogonality to round-off
      v -= basis.row(b).dot(v) * basis.row(b).transpose();
    for (Eigen::Index b = 0; b < found; ++b)
      v -= basis.row(b).dot(v) * basis.row(b).transpose();
    if (v.norm() <= 1e-8 * rows.row(r).norm())
      continue;
    chosen.row(found) = rows.row(r);
    basis.row(found++) = v.transpose() / v.norm();
  }
  if (found < count)
    throw InputError("-problem_init rules: the Sudoku rules have rank " + std::to_string(found) +
                     ", below -problem_eq " + std::to_string(count));
  return chosen;
}
} // namespace

SudokuLp::Config SudokuLp::Config::from_options(const RunSpec& run) {
  OptionSection section("problem sudoku_lp");
  Config c{};
  c.split = SampleSplit::from_options(200, 50, "puzzles");
  c.size = options::get_choice("-problem_size", "4", {"4", "9"}, "board side N (4x4 or 9x9)") == "9"
               ? 9
               : 4;
  const PetscInt cells = c.size * c.size;
  // The defaults: half the cells given at 4x4; 9x9 as OptNet's puzzles, about a third; the
  // rank of the true constraint matrix, 40 and 249.
  c.clues =
      options::get_int("-problem_clues", c.size == 9 ? 30 : 8, 0, cells, "given cells per puzzle");
  c.equalities = options::get_int("-problem_eq", c.size == 9 ? 249 : 40, 1, cells * c.size - 1,
                                  "rows of the learned A");
  c.rules_init = options::get_choice("-problem_init", "random", {"random", "rules"},
                                     "A's start: U[0, 1] entries (OptNet's), or the Sudoku "
                                     "rules themselves (the layer's ceiling)") == "rules";
  c.seed = run.seed;
  return c;
}

SudokuLp::SudokuLp(MPI_Comm comm, Config config)
    : QpLayerProblem(comm, config.split), config_(config) {
  const Eigen::Index total = split().train + split().test;
  const int N = static_cast<int>(config_.size);
  clues_ = Matrix::Zero(cells(), total);
  solutions_ = Matrix::Zero(cells(), total);
  for (Eigen::Index s = 0; s < total; ++s) {
    const CounterRng rng(static_cast<std::uint64_t>(config_.seed),
                         kBoard * 1000000007ULL + static_cast<std::uint64_t>(s));
    const std::vector<int> board = random_board(rng, N == 9 ? 3 : 2);
    const std::vector<int> keep = permutation(rng, N * N, 100);
    for (int cell = 0; cell < N * N; ++cell) {
      const int d = board[static_cast<std::size_t>(cell)];
      solutions_(N * cell + d, s) = 1.0;
    }
    for (int k = 0; k < config_.clues; ++k) {
      const int cell = keep[static_cast<std::size_t>(k)];
      clues_(N * cell + board[static_cast<std::size_t>(cell)], s) = 1.0;
    }
  }
  if (config_.rules_init)
    rules_ = independent_rows(sudoku_rules(box_side(static_cast<std::size_t>(N * N))),
                              config_.equalities);
}

bool SudokuLp::valid_board(const std::vector<int>& board) {
  const int b = box_side(board.size()), N = b * b;
  auto distinct = [&](auto cell_of) {
    std::array<bool, 9> seen{};
    for (int k = 0; k < N; ++k) {
      const int d = board[static_cast<std::size_t>(cell_of(k))];
      if (seen[static_cast<std::size_t>(d)])
        return false;
      seen[static_cast<std::size_t>(d)] = true;
    }
    return true;
  };
  for (int i = 0; i < N; ++i) {
    if (!distinct([&](int k) { return N * i + k; }) || !distinct([&](int k) { return N * k + i; }))
      return false;
    const int r0 = b * (i / b), c0 = b * (i % b);
    if (!distinct([&](int k) { return N * (r0 + k / b) + c0 + k % b; }))
      return false;
  }
  return true;
}

SudokuLp::Vector SudokuLp::initial_model() const {
  const CounterRng rng(static_cast<std::uint64_t>(config_.seed), kInit);
  Vector x0 = Vector::Zero(nx()); // z0 = 0: b = A 1
  if (config_.rules_init) {
    Eigen::Map<RowMajor>(x0.data(), config_.equalities, cells()) = rules_;
    x0.tail(cells()).setConstant(-std::log(static_cast<double>(config_.size))); // b = 1
    return x0;
  }
  const Eigen::Index entries = config_.equalities * cells();
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
  qp.Q = kQuadratic * Matrix::Identity(cells(), cells());
  qp.q = -clues_.col(sample);
  qp.G = -Matrix::Identity(cells(), cells());
  qp.h = Vector::Zero(cells());
  qp.A = Eigen::Map<const RowMajor>(x.data(), m, cells());
  qp.b = qp.A * x.tail(cells()).array().exp().matrix();
  return qp;
}

double SudokuLp::sample_loss(int sample, const Vector& y) const {
  return (y - solutions_.col(sample)).squaredNorm() / cells();
}

SudokuLp::Vector SudokuLp::sample_loss_gradient(int sample, const Vector& y) const {
  return 2.0 * (y - solutions_.col(sample)) / cells();
}

void SudokuLp::add_model_gradient(const Vector& x, int, const QpLayerGradient& layer,
                                  Vector& grad) const {
  const Eigen::Index m = config_.equalities;
  const Vector e = x.tail(cells()).array().exp();
  Eigen::Map<RowMajor> dA(grad.data(), m, cells());
  dA += layer.dA + layer.db * e.transpose(); // b = A e
  const Eigen::Map<const RowMajor> A(x.data(), m, cells());
  grad.tail(cells()) += (A.transpose() * layer.db).cwiseProduct(e);
}

void SudokuLp::report_metrics(Vec x, Vec, Record& record) {
  if (split().test == 0)
    return;
  // Per test puzzle: a wrong board (its cell-wise argmax breaks a rule), the loss, and the
  // non-clue cells whose argmax is not the solution's digit (out of how many): when every board
  // is wrong, the cells still show whether training moves the layer towards the rules.
  const auto sums = sum_over_test_solutions(
      gather_to_all(x), 4,
      [&](int sample, const Vector& y, std::vector<double>& out) {
        const int N = static_cast<int>(config_.size);
        std::vector<int> board(static_cast<std::size_t>(N * N));
        for (int cell = 0; cell < N * N; ++cell) {
          int& digit = board[static_cast<std::size_t>(cell)];
          y.segment(N * cell, N).maxCoeff(&digit);
          if (clues_.col(sample).segment(N * cell, N).sum() > 0.0)
            continue;
          out[2] += solutions_(N * cell + digit, sample) > 0.0 ? 0.0 : 1.0;
          out[3] += 1.0;
        }
        out[0] += valid_board(board) ? 0.0 : 1.0;
        out[1] += sample_loss(sample, y);
      },
      record);
  record.set("test_error", sums[0] / static_cast<double>(split().test));
  record.set("test_cell_error", sums[3] > 0.0 ? sums[2] / sums[3] : 0.0);
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
  h5::write_attribute(group, "size", static_cast<long long>(config_.size));
  h5::write_attribute(group, "quadratic", kQuadratic);
}

} // namespace bilevel
