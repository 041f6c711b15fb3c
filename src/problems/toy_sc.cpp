#include "bilevel/problems/toy_sc.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/eigen_dense.hpp"

#include <cmath>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kU = 1, kV, kc, kd, kx0 };

Eigen::MatrixXd random_orthogonal(const CounterRng& rng, Eigen::Index n) {
  Eigen::MatrixXd m(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      m(i, j) = rng.normal(static_cast<std::uint64_t>(i * n + j));
  return Eigen::HouseholderQR<Eigen::MatrixXd>(m).householderQ();
}
} // namespace

ToySc::Config ToySc::Config::from_options(const RunSpec& run, const char* section_name) {
  OptionSection section(section_name);
  Config c{};
  c.n = options::get_int("-problem_n", 20, 1, 100000, "dimension of x and y");
  c.cond_h = options::get_real("-problem_cond", 10.0, 1.0, 1e8, "condition number of H");
  c.seed = run.seed;
  return c;
}

ToySc::ToySc(MPI_Comm comm, Config config) : ReplicatedProblem(comm), config_(config) {
  const Eigen::Index n = config_.n;
  const CounterRng rc(config_.seed, kc), rd(config_.seed, kd);
  singular_values_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i)
    singular_values_[i] =
        n == 1 ? 1.0
               : std::pow(config_.cond_h, static_cast<double>(i) / static_cast<double>(n - 1));
  H_ = random_orthogonal(CounterRng(config_.seed, kU), n) * singular_values_.asDiagonal() *
       random_orthogonal(CounterRng(config_.seed, kV), n).transpose();
  c_.resize(n);
  d_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    c_[i] = rc.normal(i);
    d_[i] = rd.normal(i);
  }
}

Curvature ToySc::lower_curvature(Vec, Vec, CurvatureNeed) {
  // grad^2_yy g = H'H: eigenvalues are the squared singular values.
  return {singular_values_.minCoeff() * singular_values_.minCoeff(),
          singular_values_.maxCoeff() * singular_values_.maxCoeff()};
}

ToySc::Vector ToySc::initial_x() const {
  const CounterRng rng(config_.seed, kx0);
  Vector x(config_.n);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x[i] = rng.normal(i);
  return x;
}

double ToySc::f(const Vector& x, const Vector& y) {
  return std::sin(c_.dot(x) + d_.dot(y)) + std::log((x + y).squaredNorm() + 1.0);
}

void ToySc::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const double cs = std::cos(c_.dot(x) + d_.dot(y));
  const Vector u = x + y;
  const Vector common = (2.0 / (u.squaredNorm() + 1.0)) * u;
  if (gx)
    *gx = cs * c_ + common;
  if (gy)
    *gy = cs * d_ + common;
}

double ToySc::g(const Vector& x, const Vector& y) {
  return 0.5 * (H_ * y - x).squaredNorm();
}

void ToySc::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const Vector r = H_ * y - x;
  if (gx)
    *gx = -r;
  if (gy)
    *gy = H_.transpose() * r;
}

ToySc::Vector ToySc::hess_yy_g(const Vector&, const Vector&, const Vector& v) {
  return H_.transpose() * (H_ * v);
}
ToySc::Vector ToySc::hess_xy_g(const Vector&, const Vector&, const Vector& v) {
  return -(H_ * v);
}
ToySc::Vector ToySc::hess_yx_g(const Vector&, const Vector&, const Vector& w) {
  return -(H_.transpose() * w);
}

void ToySc::exact(const Vector& x, Vector& grad, Vector& y_star) {
  const auto lu = H_.partialPivLu();
  y_star = lu.solve(x);
  Vector gx, gy;
  grad_f(x, y_star, &gx, &gy);
  grad = gx + H_.transpose().partialPivLu().solve(gy); // dy*/dx = H^{-1}
}

void ToySc::export_data(hid_t group) const {
  h5::write_matrix(comm(), group, "H", H_);
  h5::write_vector(comm(), group, "c", c_);
  h5::write_vector(comm(), group, "d", d_);
  h5::write_vector(comm(), group, "x0", initial_x());
}

} // namespace bilevel
