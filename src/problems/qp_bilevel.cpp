#include "bilevel/problems/qp_bilevel.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/eigen_dense.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kM = 1, kB, kc, kG, kA, kYref, kSlack, kd, kx0 };

Eigen::MatrixXd gaussian(long long seed, Stream stream, Eigen::Index rows, Eigen::Index cols,
                         double scale) {
  const CounterRng rng(static_cast<std::uint64_t>(seed), stream);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      m(i, j) = scale * rng.normal(static_cast<std::uint64_t>(i * cols + j));
  return m;
}
} // namespace

QpBilevel::Config QpBilevel::Config::from_options(const RunSpec& run) {
  OptionSection section("problem qp_bilevel");
  Config c{};
  c.nx = options::get_int("-problem_nx", 5, 1, 100000, "dimension of x");
  c.ny = options::get_int("-problem_ny", 20, 1, 100000, "dimension of y");
  c.inequalities = options::get_int("-problem_ineq", 20, 0, 1000000, "rows of G y <= h");
  c.equalities = options::get_int("-problem_eq", 2, 0, 1000000, "rows of A y = b (fewer than ny)");
  c.r = options::get_real("-problem_r", 0.1, 0.0, 1e8, "upper-level regularisation r");
  c.seed = run.seed;
  if (c.equalities >= c.ny)
    throw InputError("-problem_eq " + std::to_string(c.equalities) +
                     ": accepted: fewer equalities than -problem_ny " + std::to_string(c.ny));
  return c;
}

QpBilevel::QpBilevel(MPI_Comm comm, Config config) : ReplicatedProblem(comm), config_(config) {
  const Eigen::Index nx = config_.nx, ny = config_.ny, m = config_.inequalities,
                     p = config_.equalities;
  const double root = std::sqrt(static_cast<double>(ny));
  const Eigen::MatrixXd M = gaussian(config_.seed, kM, ny, ny, 1.0);
  qp_.Q = M * M.transpose() / static_cast<double>(ny) + 0.5 * Eigen::MatrixXd::Identity(ny, ny);
  B_ = gaussian(config_.seed, kB, ny, nx, 1.0 / std::sqrt(static_cast<double>(nx)));
  qp_.q = gaussian(config_.seed, kc, ny, 1, 2.0);
  qp_.G = gaussian(config_.seed, kG, m, ny, 1.0 / root);
  qp_.A = gaussian(config_.seed, kA, p, ny, 1.0 / root);
  const Eigen::VectorXd y_ref = gaussian(config_.seed, kYref, ny, 1, 0.5);
  const CounterRng slack(static_cast<std::uint64_t>(config_.seed), kSlack);
  // An empty G or A stays out of the product: Eigen hands a 0-row matrix to BLAS dgemv with
  // leading dimension 0, which reference BLAS rejects with an "illegal value" message.
  qp_.h = m > 0 ? Eigen::VectorXd(qp_.G * y_ref) : Eigen::VectorXd(0);
  for (Eigen::Index i = 0; i < m; ++i)
    qp_.h[i] += slack.uniform(static_cast<std::uint64_t>(i), 0.0, 0.5);
  qp_.b = p > 0 ? Eigen::VectorXd(qp_.A * y_ref) : Eigen::VectorXd(0);
  d_ = gaussian(config_.seed, kd, ny, 1, 1.0);
  set_ = std::make_unique<Polyhedron>(qp_.G, qp_.h, qp_.A, qp_.b);
}

DenseQp QpBilevel::lower_qp(const Eigen::VectorXd& x) const {
  DenseQp qp = qp_;
  qp.q -= B_ * x;
  return qp;
}

QpBilevel::Vector QpBilevel::initial_x() const {
  return gaussian(config_.seed, kx0, config_.nx, 1, 0.5);
}

double QpBilevel::f(const Vector& x, const Vector& y) {
  return 0.5 * (y - d_).squaredNorm() + 0.5 * config_.r * x.squaredNorm();
}

void QpBilevel::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = config_.r * x;
  if (gy)
    *gy = y - d_;
}

double QpBilevel::g(const Vector& x, const Vector& y) {
  return 0.5 * y.dot(qp_.Q * y) + y.dot(qp_.q - B_ * x);
}

void QpBilevel::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = -B_.transpose() * y;
  if (gy)
    *gy = qp_.Q * y + qp_.q - B_ * x;
}

QpBilevel::Vector QpBilevel::hess_yy_g(const Vector&, const Vector&, const Vector& v) {
  return qp_.Q * v;
}
QpBilevel::Vector QpBilevel::hess_xy_g(const Vector&, const Vector&, const Vector& v) {
  return -B_.transpose() * v;
}
QpBilevel::Vector QpBilevel::hess_yx_g(const Vector&, const Vector&, const Vector& w) {
  return -B_ * w;
}

void QpBilevel::exact(const Vector& x, Vector& grad, Vector& y_star) {
  const Eigen::LLT<Eigen::MatrixXd> llt(qp_.Q);
  const auto L = llt.matrixL();
  const auto U = llt.matrixU(); // L'
  // In z = L'y: G y = (G L^{-T}) z, and (G L^{-T})' = L^{-1} G'.
  const Polyhedron z_set(L.solve(qp_.G.transpose()).transpose(), qp_.h,
                         L.solve(qp_.A.transpose()).transpose(), qp_.b);
  const Vector w = L.solve(B_ * x - qp_.q); // L'u with u = Q^{-1}(Bx - c)
  y_star = U.solve(z_set.project(w).y);
  grad = config_.r * x + B_.transpose() * U.solve(z_set.project_jacobian(w, L.solve(y_star - d_)));
}

void QpBilevel::export_data(hid_t group) const {
  const MPI_Comm c = comm();
  h5::write_matrix(c, group, "Q", qp_.Q);
  h5::write_vector(c, group, "c", qp_.q);
  h5::write_matrix(c, group, "B", B_);
  h5::write_matrix(c, group, "G", qp_.G);
  h5::write_vector(c, group, "h", qp_.h);
  h5::write_matrix(c, group, "A", qp_.A);
  h5::write_vector(c, group, "b", qp_.b);
  h5::write_vector(c, group, "d", d_);
  h5::write_vector(c, group, "x0", initial_x());
  h5::write_attribute(group, "r", config_.r);
}

} // namespace bilevel
