#include "bilevel/problems/hard_instances.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>

namespace bilevel {

namespace {
using Vector = Eigen::VectorXd;

Vector scalar(double value) {
  return Vector::Constant(1, value);
}

/// sign with sign(0) = -1: at x = 0 every y in [-1, 1] solves the lower level of Examples 4.1
/// and 5.1, and the optimistic choice (the smallest f) is y = -1 for both.
double optimistic_sign(double x) {
  return x > 0 ? 1.0 : -1.0;
}
} // namespace

HardInstance::Settings HardInstance::read_settings(const char* section, double default_x0) {
  OptionSection scope(section);
  Settings s{};
  s.x0 = options::get_real("-problem_x0", default_x0, -1e6, 1e6, "starting upper iterate x0");
  return s;
}

void HardInstance::export_data(hid_t group) const {
  h5::write_dense(comm(), group, "x0", {settings_.x0}, 1, 0);
}

// ---- Example 5.1: f = x y, g = 0 on Y = [-1, 1].

double HardNonsmooth::f(const Vector& x, const Vector& y) {
  return x[0] * y[0];
}
void HardNonsmooth::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = scalar(y[0]);
  if (gy)
    *gy = scalar(x[0]);
}
// g = 0: every derivative is an exact zero (the FD tests check they stay consistent).
double HardNonsmooth::g(const Vector&, const Vector&) {
  return 0.0;
}
void HardNonsmooth::grad_g(const Vector&, const Vector&, Vector* gx, Vector* gy) {
  if (gx)
    *gx = Vector::Zero(1);
  if (gy)
    *gy = Vector::Zero(1);
}
Vector HardNonsmooth::hess_yy_g(const Vector&, const Vector&, const Vector&) {
  return Vector::Zero(1);
}
Vector HardNonsmooth::hess_xy_g(const Vector&, const Vector&, const Vector&) {
  return Vector::Zero(1);
}
Vector HardNonsmooth::hess_yx_g(const Vector&, const Vector&, const Vector&) {
  return Vector::Zero(1);
}
void HardNonsmooth::exact(const Vector& x, Vector& grad, Vector& y_star) {
  // phi = -|x|, y* = -sign(x). At x = 0 every y gives f = 0; we return y* = 1 and the left
  // derivative +1 (phi = x for x < 0).
  y_star = scalar(-optimistic_sign(x[0]));
  grad = y_star;
}

// ---- Example 5.3 (Liu et al. 2020): f = (x - y2)^2 + (y1 - 1)^2, g = y1^2 - 2 x y1.

double HardLiu::f(const Vector& x, const Vector& y) {
  return (x[0] - y[1]) * (x[0] - y[1]) + (y[0] - 1.0) * (y[0] - 1.0);
}
void HardLiu::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = scalar(2.0 * (x[0] - y[1]));
  if (gy)
    *gy = Vector{{2.0 * (y[0] - 1.0), -2.0 * (x[0] - y[1])}};
}
double HardLiu::g(const Vector& x, const Vector& y) {
  return y[0] * y[0] - 2.0 * x[0] * y[0];
}
void HardLiu::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = scalar(-2.0 * y[0]);
  if (gy)
    *gy = Vector{{2.0 * (y[0] - x[0]), 0.0}};
}
Vector HardLiu::hess_yy_g(const Vector&, const Vector&, const Vector& v) {
  return Vector{{2.0 * v[0], 0.0}}; // diag(2, 0): y2 is free
}
Vector HardLiu::hess_xy_g(const Vector&, const Vector&, const Vector& v) {
  return scalar(-2.0 * v[0]);
}
Vector HardLiu::hess_yx_g(const Vector&, const Vector&, const Vector& w) {
  return Vector{{-2.0 * w[0], 0.0}};
}
void HardLiu::exact(const Vector& x, Vector& grad, Vector& y_star) {
  y_star = Vector{{x[0], x[0]}}; // the optimistic point of Y*(x) (header comment)
  grad = scalar(2.0 * (x[0] - 1.0));
}

// ---- Example 4.1: f = x^2 + y, g = -x y on Y = [-1, 1].

double HardDiscontinuous::f(const Vector& x, const Vector& y) {
  return x[0] * x[0] + y[0];
}
void HardDiscontinuous::grad_f(const Vector& x, const Vector&, Vector* gx, Vector* gy) {
  if (gx)
    *gx = scalar(2.0 * x[0]);
  if (gy)
    *gy = scalar(1.0);
}
double HardDiscontinuous::g(const Vector& x, const Vector& y) {
  return -x[0] * y[0];
}
void HardDiscontinuous::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = scalar(-y[0]);
  if (gy)
    *gy = scalar(-x[0]);
}
Vector HardDiscontinuous::hess_yy_g(const Vector&, const Vector&, const Vector&) {
  return Vector::Zero(1);
}
Vector HardDiscontinuous::hess_xy_g(const Vector&, const Vector&, const Vector& v) {
  return scalar(-v[0]);
}
Vector HardDiscontinuous::hess_yx_g(const Vector&, const Vector&, const Vector& w) {
  return scalar(-w[0]);
}
void HardDiscontinuous::exact(const Vector& x, Vector& grad, Vector& y_star) {
  // Away from 0, phi = x^2 + sign(x) is smooth with phi' = 2x; at 0 this is the derivative of
  // the lower (optimistic, x < 0) branch.
  y_star = scalar(optimistic_sign(x[0]));
  grad = scalar(2.0 * x[0]);
}

} // namespace bilevel
