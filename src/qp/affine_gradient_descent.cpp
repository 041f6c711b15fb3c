#include "bilevel/qp/affine_gradient_descent.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

AffineGradientDescent::AffineGradientDescent(Matrix C, Config config)
    : C_(std::move(C)), config_(config) {
  if (C_.rows() > 0)
    gram_.compute(C_ * C_.transpose());
}

AffineGradientDescent::Vector AffineGradientDescent::project_null(const Vector& v) const {
  if (C_.rows() == 0)
    return v;
  return v - C_.transpose() * gram_.solve(C_ * v);
}

AffineGradientDescent::Vector AffineGradientDescent::multipliers(const Vector& grad) const {
  if (C_.rows() == 0)
    return Vector();
  return -gram_.solve(C_ * grad);
}

AffineGradientDescent::Result
AffineGradientDescent::minimise(const std::function<Vector(const Vector&)>& gradient, Vector y0,
                                double first_step) const {
  Result r;
  r.y = std::move(y0);
  Vector d = project_null(gradient(r.y));
  double step = first_step;
  for (; r.iterations < config_.max_iterations; ++r.iterations) {
    if (d.lpNorm<Eigen::Infinity>() <= config_.tolerance) {
      r.converged = true;
      break;
    }
    const Vector y_old = r.y, d_old = d;
    r.y -= step * d;
    d = project_null(gradient(r.y));
    // BB1 step s's / s'r on the projected gradients (the affine set's own curvature).
    const Vector s = r.y - y_old, change = d - d_old;
    const double curvature = s.dot(change);
    step = curvature > 0 ? std::clamp(s.squaredNorm() / curvature, 1e-12, 1e12) : step;
  }
  return r;
}

} // namespace bilevel
