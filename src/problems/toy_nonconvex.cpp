#include "bilevel/problems/toy_nonconvex.hpp"

#include "bilevel/core/power_iteration.hpp"

#include <cmath>

namespace bilevel {

Curvature ToyNonconvex::lower_curvature(Vec x, Vec y, CurvatureNeed) {
  OwnedVec v = duplicate(y);
  set_power_start(v);
  const double dominant =
      power_iteration(v, [&](Vec in, Vec out) { lower_hess_yy(x, y, in, out); });
  return {0.0, std::abs(dominant)};
}

double ToyNonconvex::g(const Vector& x, const Vector& y) {
  return std::cos(ToySc::g(x, y));
}

void ToyNonconvex::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const double s = std::sin(ToySc::g(x, y));
  ToySc::grad_g(x, y, gx, gy);
  if (gx)
    *gx *= -s;
  if (gy)
    *gy *= -s;
}

ToyNonconvex::Vector ToyNonconvex::hess_yy_g(const Vector& x, const Vector& y, const Vector& v) {
  const double r = ToySc::g(x, y);
  Vector ry;
  ToySc::grad_g(x, y, nullptr, &ry);
  return -std::sin(r) * ToySc::hess_yy_g(x, y, v) - std::cos(r) * ry.dot(v) * ry;
}

ToyNonconvex::Vector ToyNonconvex::hess_xy_g(const Vector& x, const Vector& y, const Vector& v) {
  const double r = ToySc::g(x, y);
  Vector rx, ry;
  ToySc::grad_g(x, y, &rx, &ry);
  return -std::sin(r) * ToySc::hess_xy_g(x, y, v) - std::cos(r) * ry.dot(v) * rx;
}

ToyNonconvex::Vector ToyNonconvex::hess_yx_g(const Vector& x, const Vector& y, const Vector& w) {
  const double r = ToySc::g(x, y);
  Vector rx, ry;
  ToySc::grad_g(x, y, &rx, &ry);
  return -std::sin(r) * ToySc::hess_yx_g(x, y, w) - std::cos(r) * rx.dot(w) * ry;
}

void ToyNonconvex::exact(const Vector& x, Vector& grad, Vector& y_star) {
  // toy_sc's closed form does not apply: report "not provided" like any other problem.
  ReplicatedProblem::exact(x, grad, y_star);
}

} // namespace bilevel
