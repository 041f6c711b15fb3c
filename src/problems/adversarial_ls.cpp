#include "bilevel/problems/adversarial_ls.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/io/text_table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

namespace bilevel {

namespace {

// Independent streams of the counter generator, one per piece of data.
enum Stream : std::uint64_t { kPermutation = 1, kFeatures, kWeights, kNoise };
constexpr PetscInt kMaxExportEntries = 1 << 22;
constexpr double kSyntheticNoise = 0.5;

/// Columns scaled to mean 0 and (population) standard deviation 1, so that the learning rates
/// the paper tunes over a grid mean the same on every feature; constant columns stay 0.
void standardise(Eigen::MatrixXd& table) {
  for (Eigen::Index j = 0; j < table.cols(); ++j) {
    auto column = table.col(j);
    column.array() -= column.mean();
    const double sd = std::sqrt(column.squaredNorm() / static_cast<double>(column.size()));
    if (sd > 0)
      column /= sd;
  }
}

/// The diabetes set (features, then the target as the last column), standardised, whole.
Eigen::MatrixXd load_diabetes(const std::string& directory) {
  const std::filesystem::path dir(directory);
  const auto features_path = (dir / "diabetes_data_raw.csv.gz").string();
  if (!std::filesystem::exists(features_path))
    throw InputError("diabetes data not found in '" + directory +
                     "': install the Debian package python3-sklearn (scripts/install-deps "
                     "does), or point -problem_data_dir at its datasets/data directory");
  const Eigen::MatrixXd features = read_text_table(features_path);
  const Eigen::MatrixXd target = read_text_table((dir / "diabetes_target.csv.gz").string());
  if (target.rows() != features.rows() || target.cols() != 1)
    throw InputError("diabetes target in '" + directory + "' has " + std::to_string(target.rows()) +
                     "x" + std::to_string(target.cols()) + " values; expected " +
                     std::to_string(features.rows()) + "x1");
  Eigen::MatrixXd table(features.rows(), features.cols() + 1);
  table << features, target;
  standardise(table);
  return table;
}

/// Position of every sample in a seeded random order (the same on every rank layout).
std::vector<PetscInt> random_positions(PetscInt n, long long seed) {
  const CounterRng rng(static_cast<std::uint64_t>(seed), kPermutation);
  std::vector<PetscInt> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), PetscInt{0});
  std::vector<double> keys(order.size());
  for (PetscInt i = 0; i < n; ++i)
    keys[static_cast<std::size_t>(i)] = rng.uniform(static_cast<std::uint64_t>(i));
  std::sort(order.begin(), order.end(), [&](PetscInt a, PetscInt b) {
    return std::pair(keys[static_cast<std::size_t>(a)], a) <
           std::pair(keys[static_cast<std::size_t>(b)], b);
  });
  std::vector<PetscInt> position(order.size());
  for (PetscInt r = 0; r < n; ++r)
    position[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])] = r;
  return position;
}

/// This rank's entries of a Vec, for reading or for writing, returned to PETSc on scope exit; a
/// null Vec has none.
class LocalEntries {
public:
  enum Mode { read, write };
  explicit LocalEntries(Vec v, Mode mode = read) : v_(v), mode_(mode) {
    if (!v_)
      return;
    if (mode_ == read)
      BB_PETSC(VecGetArrayRead(v_, const_cast<const PetscScalar**>(&values_)));
    else
      BB_PETSC(VecGetArrayWrite(v_, &values_));
  }
  ~LocalEntries() {
    if (!v_)
      return;
    // A destructor must not throw; restoring an array obtained above cannot fail.
    if (mode_ == read)
      (void)VecRestoreArrayRead(v_, const_cast<const PetscScalar**>(&values_));
    else
      (void)VecRestoreArrayWrite(v_, &values_);
  }
  LocalEntries(const LocalEntries&) = delete;
  LocalEntries& operator=(const LocalEntries&) = delete;
  double operator[](PetscInt i) const { return values_[i]; }
  PetscScalar& operator[](PetscInt i) { return values_[i]; }

private:
  Vec v_;
  Mode mode_;
  PetscScalar* values_ = nullptr;
};

} // namespace

AdversarialLs::Config AdversarialLs::Config::from_options(const RunSpec& run) {
  OptionSection section("problem adversarial_ls");
  Config c{};
  c.synthetic = options::get_choice("-problem_data", "diabetes", {"diabetes", "synthetic"},
                                    "the diabetes regression set (python3-sklearn) or "
                                    "synthetic Gaussian data of any size") == "synthetic";
  c.data_dir = options::get_string("-problem_data_dir",
                                   "/usr/lib/python3/dist-packages/sklearn/datasets/data",
                                   "directory of diabetes_data_raw.csv.gz and "
                                   "diabetes_target.csv.gz");
  c.n = options::get_int("-problem_n", 1000, 2, 100000000, "synthetic samples n (= ny)");
  c.d = options::get_int("-problem_d", 10, 1, 100000, "synthetic features d (= nx)");
  c.lambda = options::get_positive("-problem_lambda", 1.0, "weight lambda of ||y - b||_M^2");
  c.sigma_min =
      options::get_positive("-problem_sigma_min", 1e-9, "smallest nonzero diagonal entry of M");
  c.sigma_max = options::get_positive("-problem_sigma_max", 1.0, "largest diagonal entry of M");
  c.seed = run.seed;
  if (!(c.sigma_min <= c.sigma_max))
    throw InputError("-problem_sigma_min " + std::to_string(c.sigma_min) +
                     " exceeds -problem_sigma_max " + std::to_string(c.sigma_max) +
                     "; accepted: sigma_min <= sigma_max");
  return c;
}

AdversarialLs::AdversarialLs(MPI_Comm comm, Config config) : Problem(comm), config_(config) {
  Eigen::MatrixXd table; // diabetes: every rank holds the small whole set
  if (config_.synthetic) {
    n_ = config_.n;
    d_ = config_.d;
  } else {
    table = load_diabetes(config_.data_dir);
    n_ = static_cast<PetscInt>(table.rows());
    d_ = static_cast<PetscInt>(table.cols() - 1);
  }
  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, n_, b_.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(b_, &begin, &end));
  m_ = duplicate(b_);
  support_ = duplicate(b_);
  BB_PETSC(MatCreateDense(comm, end - begin, PETSC_DECIDE, n_, d_, nullptr, A_.receive()));
  BB_PETSC(MatCreateVecs(A_, work_x_.receive(), nullptr));

  // Synthetic: a_ij ~ N(0, 1), b = A w + N(0, 0.5^2) with w ~ N(0, 1/d), so b has variance
  // about 1.25 at every d (the standardised diabetes target has 1).
  const CounterRng rng_a(static_cast<std::uint64_t>(config_.seed), kFeatures),
      rng_w(static_cast<std::uint64_t>(config_.seed), kWeights),
      rng_e(static_cast<std::uint64_t>(config_.seed), kNoise);
  Eigen::VectorXd w(d_);
  for (PetscInt j = 0; j < d_; ++j)
    w[j] = rng_w.normal(static_cast<std::uint64_t>(j)) / std::sqrt(static_cast<double>(d_));

  // M: the samples at the first half of a seeded random order get sigma_min ... sigma_max
  // evenly spaced, the rest 0 (Section 7.1).
  const std::vector<PetscInt> position = random_positions(n_, config_.seed);
  const PetscInt nonzero = n_ / 2;
  PetscScalar *pa = nullptr, *pb = nullptr, *pm = nullptr, *ps = nullptr;
  PetscInt lda = 0;
  BB_PETSC(MatDenseGetLDA(A_, &lda));
  BB_PETSC(MatDenseGetArrayWrite(A_, &pa));
  BB_PETSC(VecGetArray(b_, &pb));
  BB_PETSC(VecGetArray(m_, &pm));
  BB_PETSC(VecGetArray(support_, &ps));
  for (PetscInt i = begin; i < end; ++i) {
    const PetscInt k = i - begin;
    double label = 0;
    for (PetscInt j = 0; j < d_; ++j) {
      double a = 0;
      if (config_.synthetic) {
        a = rng_a.normal(static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(d_) +
                         static_cast<std::uint64_t>(j));
        label += a * w[j];
      } else {
        a = table(i, j);
      }
      pa[k + j * lda] = a;
    }
    pb[k] = config_.synthetic
                ? label + kSyntheticNoise * rng_e.normal(static_cast<std::uint64_t>(i))
                : table(i, d_);
    const PetscInt r = position[static_cast<std::size_t>(i)];
    const double spread =
        nonzero > 1 ? static_cast<double>(r) / static_cast<double>(nonzero - 1) : 1.0;
    pm[k] =
        r < nonzero ? config_.sigma_min + (config_.sigma_max - config_.sigma_min) * spread : 0.0;
    ps[k] = r < nonzero ? 1.0 : 0.0;
  }
  BB_PETSC(VecRestoreArray(support_, &ps));
  BB_PETSC(VecRestoreArray(m_, &pm));
  BB_PETSC(VecRestoreArray(b_, &pb));
  BB_PETSC(MatDenseRestoreArrayWrite(A_, &pa));
  BB_PETSC(MatAssemblyBegin(A_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(A_, MAT_FINAL_ASSEMBLY));
}

OwnedVec AdversarialLs::create_x() const {
  return duplicate(work_x_);
}
OwnedVec AdversarialLs::create_y() const {
  return duplicate(b_);
}
void AdversarialLs::initial_x(Vec x) const {
  BB_PETSC(VecSet(x, 0.0));
}
void AdversarialLs::initial_y(Vec, Vec y) const {
  BB_PETSC(VecCopy(b_, y));
}

double AdversarialLs::evaluate_upper_value(Vec x, Vec y) {
  const LocalEntries py(y);
  double sum = 0;
  pass_(A_, x, nullptr, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const double r = block.products[k] - py[block.first + k];
      sum += r * r;
    }
  });
  logged_allreduce(comm(), &sum, 1, MPI_SUM);
  return 0.5 * sum / static_cast<double>(n_);
}

void AdversarialLs::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  // grad_x f = (1/n) A'r, grad_y f = -(1/n) r, r = Ax - y
  const double scale = 1.0 / static_cast<double>(n_);
  const LocalEntries py(y);
  LocalEntries out_y(gy, LocalEntries::write);
  pass_(A_, x, gx, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const PetscInt i = block.first + k;
      const double r = block.products[k] - py[i];
      if (gx)
        block.weights[k] = scale * r;
      if (gy)
        out_y[i] = -scale * r;
    }
  });
}

double AdversarialLs::evaluate_lower_value(Vec x, Vec y) {
  // (1/2n) (r'Mr + lambda (y - b)'M(y - b)), r = Ax - y
  const LocalEntries py(y), pm(m_), pb(b_);
  double sum = 0;
  pass_(A_, x, nullptr, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const PetscInt i = block.first + k;
      const double r = block.products[k] - py[i], shift = py[i] - pb[i];
      sum += pm[i] * (r * r + config_.lambda * shift * shift);
    }
  });
  logged_allreduce(comm(), &sum, 1, MPI_SUM);
  return 0.5 * sum / static_cast<double>(n_);
}

void AdversarialLs::evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  // grad_x g = (1/n) A'M r, grad_y g = (1/n) M(-r + lambda (y - b))
  const double scale = 1.0 / static_cast<double>(n_);
  const LocalEntries py(y), pm(m_), pb(b_);
  LocalEntries out_y(gy, LocalEntries::write);
  pass_(A_, x, gx, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const PetscInt i = block.first + k;
      const double weighted = pm[i] * (block.products[k] - py[i]);
      if (gx)
        block.weights[k] = scale * weighted;
      if (gy)
        out_y[i] = scale * (config_.lambda * pm[i] * (py[i] - pb[i]) - weighted);
    }
  });
}

void AdversarialLs::evaluate_lower_hess_yy(Vec, Vec, Vec v, Vec out) {
  BB_PETSC(VecPointwiseMult(out, m_, v));
  BB_PETSC(VecScale(out, (1.0 + config_.lambda) / static_cast<double>(n_)));
}

void AdversarialLs::evaluate_lower_hess_xy(Vec, Vec, Vec v, Vec out_x) {
  // -(1/n) A'M v
  const double scale = -1.0 / static_cast<double>(n_);
  const LocalEntries pv(v), pm(m_);
  pass_(A_, nullptr, out_x, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k)
      block.weights[k] = scale * pm[block.first + k] * pv[block.first + k];
  });
}

void AdversarialLs::evaluate_lower_hess_yx(Vec, Vec, Vec w, Vec out_y) {
  // -(1/n) M A w
  const double scale = -1.0 / static_cast<double>(n_);
  const LocalEntries pm(m_);
  LocalEntries out(out_y, LocalEntries::write);
  pass_(A_, w, nullptr, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k)
      out[block.first + k] = scale * pm[block.first + k] * block.products[k];
  });
}

Curvature AdversarialLs::lower_curvature(Vec, Vec, CurvatureNeed) {
  PetscReal largest = 0;
  BB_PETSC(VecMax(m_, nullptr, &largest));
  return {0.0, (1.0 + config_.lambda) * largest / static_cast<double>(n_)};
}

AdversarialLs::Fit AdversarialLs::fit(Vec x) {
  const LocalEntries pb(b_), ps(support_);
  std::array<double, 2> sums{}; // sum over the support of M of (a_i x - b_i)^2, sum over all
  pass_(A_, x, nullptr, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const PetscInt i = block.first + k;
      const double e = block.products[k] - pb[i];
      sums[0] += ps[i] * e * e;
      sums[1] += e * e;
    }
  });
  logged_allreduce(comm(), sums.data(), 2, MPI_SUM);
  const double shrink = config_.lambda / (1.0 + config_.lambda);
  return {0.5 * shrink * shrink * sums[0] / static_cast<double>(n_),
          sums[1] / static_cast<double>(n_)};
}

void AdversarialLs::exact_hypergradient(Vec x, Vec grad, Vec y_star) {
  // grad phi = (s^2/n) A' S (Ax - b), S the support of M, s = lambda/(1+lambda);
  // y* = Ax - s (Ax - b) on the support, Ax off it.
  const double shrink = config_.lambda / (1.0 + config_.lambda);
  const double scale = shrink * shrink / static_cast<double>(n_);
  const LocalEntries pb(b_), ps(support_);
  LocalEntries out_y(y_star, LocalEntries::write);
  pass_(A_, x, grad, [&](DenseRowBlock& block) {
    for (PetscInt k = 0; k < block.rows; ++k) {
      const PetscInt i = block.first + k;
      const double e = block.products[k] - pb[i], pinned = ps[i] * e;
      if (grad)
        block.weights[k] = scale * pinned;
      if (y_star)
        out_y[i] = pb[i] + e - shrink * pinned;
    }
  });
}

void AdversarialLs::report_metrics(Vec x, Vec, Record& record) {
  const Fit f = fit(x);
  record.set("phi", f.phi);
  record.set("mse", f.mse);
}

void AdversarialLs::export_data(hid_t group) const {
  if (n_ * d_ > kMaxExportEntries)
    throw InputError("-export_problem writes A densely: n*d = " + std::to_string(n_ * d_) +
                     " is too large; accepted: n*d <= " + std::to_string(kMaxExportEntries));
  std::vector<double> a(static_cast<std::size_t>(n_ * d_));
  OwnedVec column = duplicate(b_);
  for (PetscInt j = 0; j < d_; ++j) {
    BB_PETSC(MatGetColumnVector(A_, column, j));
    const Eigen::VectorXd values = gather_to_all(column);
    for (PetscInt i = 0; i < n_; ++i)
      a[static_cast<std::size_t>(i * d_ + j)] = values[i];
  }
  const MPI_Comm c = comm();
  h5::write_dense(c, group, "A", a, static_cast<hsize_t>(n_), static_cast<hsize_t>(d_));
  const Eigen::VectorXd b = gather_to_all(b_), m = gather_to_all(m_);
  h5::write_dense(c, group, "b", {b.data(), b.data() + b.size()}, static_cast<hsize_t>(n_), 0);
  h5::write_dense(c, group, "m", {m.data(), m.data() + m.size()}, static_cast<hsize_t>(n_), 0);
  h5::write_attribute(group, "data", std::string(config_.synthetic ? "synthetic" : "diabetes"));
  h5::write_attribute(group, "lambda", config_.lambda);
}

} // namespace bilevel
