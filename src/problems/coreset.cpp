#include "bilevel/problems/coreset.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

#include <vector>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kA = 1, kY0 };

Eigen::VectorXd softmax(const Eigen::VectorXd& x) {
  const Eigen::VectorXd e = (x.array() - x.maxCoeff()).exp(); // shifted: no overflow
  return e / e.sum();
}

/// J = diag(s) - s s', the (symmetric) Jacobian of softmax at x.
Eigen::MatrixXd softmax_jacobian(const Eigen::VectorXd& x) {
  const Eigen::VectorXd s = softmax(x);
  Eigen::MatrixXd j = -s * s.transpose();
  j.diagonal() += s;
  return j;
}
} // namespace

Coreset::Config Coreset::Config::from_options(const RunSpec& run) {
  OptionSection section("problem coreset");
  Config c{};
  c.seed = run.seed;
  return c;
}

Coreset::Coreset(MPI_Comm comm, Config config) : ReplicatedProblem(comm), config_(config) {
  const CounterRng ra(config_.seed, kA), ry(config_.seed, kY0);
  A_.resize(2, 4);
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 4; ++j)
      A_(i, j) = ra.normal(static_cast<std::uint64_t>(i * 4 + j));
  y0_.resize(2);
  for (Eigen::Index i = 0; i < 2; ++i)
    y0_[i] = ry.normal(static_cast<std::uint64_t>(i));
}

double Coreset::f(const Vector&, const Vector& y) {
  return (y - y0_).squaredNorm();
}

void Coreset::grad_f(const Vector&, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = Vector::Zero(4);
  if (gy)
    *gy = 2.0 * (y - y0_);
}

double Coreset::g(const Vector& x, const Vector& y) {
  return (y - A_ * softmax(x)).squaredNorm();
}

void Coreset::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const Vector r = y - A_ * softmax(x);
  if (gx)
    *gx = -2.0 * (softmax_jacobian(x) * (A_.transpose() * r));
  if (gy)
    *gy = 2.0 * r;
}

Coreset::Vector Coreset::hess_yy_g(const Vector&, const Vector&, const Vector& v) {
  return 2.0 * v;
}
Coreset::Vector Coreset::hess_xy_g(const Vector& x, const Vector&, const Vector& v) {
  return -2.0 * (softmax_jacobian(x) * (A_.transpose() * v));
}
Coreset::Vector Coreset::hess_yx_g(const Vector& x, const Vector&, const Vector& w) {
  return -2.0 * (A_ * (softmax_jacobian(x) * w));
}

void Coreset::exact(const Vector& x, Vector& grad, Vector& y_star) {
  y_star = A_ * softmax(x);
  grad = 2.0 * (softmax_jacobian(x) * (A_.transpose() * (y_star - y0_)));
}

void Coreset::export_data(hid_t group) const {
  std::vector<double> a(8);
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 4; ++j)
      a[static_cast<std::size_t>(i * 4 + j)] = A_(i, j);
  h5::write_dense(comm(), group, "A", a, 2, 4);
  h5::write_dense(comm(), group, "y0", {y0_[0], y0_[1]}, 2, 0);
}

} // namespace bilevel
