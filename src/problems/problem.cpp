#include "bilevel/problems/problem.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/power_iteration.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

namespace {
[[noreturn]] void missing(const Problem& p, const char* what) {
  throw InputError("problem '" + p.name() + "' does not provide " + what);
}
} // namespace

void Problem::initial_y(Vec, Vec y) const {
  BB_PETSC(VecSet(y, 0.0));
}

void Problem::count(OracleKind kind, SampleRole role) const {
  counts_.add(kind, structure().finite_sum ? require<FiniteSumProblem>(*this).samples(role) : 0);
}

double Problem::upper_value(Vec x, Vec y) {
  count(OracleKind::function_value, SampleRole::upper);
  return evaluate_upper_value(x, y);
}
void Problem::upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  count(OracleKind::upper_gradient, SampleRole::upper);
  evaluate_upper_gradient(x, y, gx, gy);
}
double Problem::lower_value(Vec x, Vec y) {
  count(OracleKind::function_value, SampleRole::lower);
  return evaluate_lower_value(x, y);
}
void Problem::lower_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  count(OracleKind::lower_gradient, SampleRole::lower);
  evaluate_lower_gradient(x, y, gx, gy);
}
void Problem::lower_hess_yy(Vec x, Vec y, Vec v, Vec out) {
  count(OracleKind::hessian_vector, SampleRole::lower);
  evaluate_lower_hess_yy(x, y, v, out);
}
void Problem::lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) {
  count(OracleKind::cross_derivative, SampleRole::lower);
  evaluate_lower_hess_xy(x, y, v, out_x);
}
void Problem::lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) {
  count(OracleKind::cross_derivative, SampleRole::lower);
  evaluate_lower_hess_yx(x, y, w, out_y);
}
void Problem::vi_map(Vec x, Vec y, Vec out) {
  count(OracleKind::lower_gradient, SampleRole::lower);
  evaluate_vi_map(x, y, out);
}
void Problem::vi_jac_y(Vec x, Vec y, Vec v, Vec out) {
  count(OracleKind::hessian_vector, SampleRole::lower);
  evaluate_vi_jac_y(x, y, v, out);
}
void Problem::vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) {
  count(OracleKind::hessian_vector, SampleRole::lower);
  evaluate_vi_jac_y_transpose(x, y, v, out);
}
void Problem::vi_jac_x(Vec x, Vec y, Vec w, Vec out_y) {
  count(OracleKind::cross_derivative, SampleRole::lower);
  evaluate_vi_jac_x(x, y, w, out_y);
}
void Problem::vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x) {
  count(OracleKind::cross_derivative, SampleRole::lower);
  evaluate_vi_jac_x_transpose(x, y, v, out_x);
}

double Problem::evaluate_lower_value(Vec, Vec) {
  missing(*this, "a lower-level objective");
}
void Problem::evaluate_lower_gradient(Vec, Vec, Vec, Vec) {
  missing(*this, "a lower-level objective");
}
void Problem::evaluate_lower_hess_yy(Vec, Vec, Vec, Vec) {
  missing(*this, "lower-level Hessians");
}
void Problem::evaluate_lower_hess_xy(Vec, Vec, Vec, Vec) {
  missing(*this, "lower-level Hessians");
}
void Problem::evaluate_lower_hess_yx(Vec, Vec, Vec, Vec) {
  missing(*this, "lower-level Hessians");
}

// F = grad_y g: one lower-gradient evaluation, counted once by the public vi_map.
void Problem::evaluate_vi_map(Vec x, Vec y, Vec out) {
  evaluate_lower_gradient(x, y, nullptr, out);
}
void Problem::evaluate_vi_jac_y(Vec x, Vec y, Vec v, Vec out) {
  evaluate_lower_hess_yy(x, y, v, out);
}
// grad^2_yy g is symmetric, so F = grad_y g has a symmetric Jacobian in y.
void Problem::evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) {
  evaluate_lower_hess_yy(x, y, v, out);
}
void Problem::evaluate_vi_jac_x(Vec x, Vec y, Vec w, Vec out_y) {
  evaluate_lower_hess_yx(x, y, w, out_y);
}
void Problem::evaluate_vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x) {
  evaluate_lower_hess_xy(x, y, v, out_x);
}

Curvature Problem::lower_curvature(Vec x, Vec y, CurvatureNeed need) {
  // Power iteration: L = lambda_max(J), then on the shifted operator L I - J, whose largest
  // eigenvalue is L - mu. Exact for symmetric J; problems with known constants or a
  // non-symmetric VI Jacobian override this.
  OwnedVec v = duplicate(y);
  auto largest = [&](double shift) {
    set_power_start(v);
    return power_iteration(v, [&](Vec in, Vec out) {
      vi_jac_y(x, y, in, out);
      if (shift != 0.0)
        BB_PETSC(VecAXPBY(out, shift, -1.0, in)); // out = shift in - J in
    });
  };
  const double lipschitz = largest(0.0);
  if (need == CurvatureNeed::lipschitz)
    return {0.0, lipschitz};
  const double mu = lipschitz - largest(lipschitz);
  return {std::max(mu, 0.0), lipschitz};
}

double Problem::lower_residual(Vec x, Vec y) {
  OwnedVec r = duplicate(y);
  vi_map(x, y, r);
  if (const ConstraintSet* set = lower_set()) {
    BB_PETSC(VecAYPX(r, -1.0, y)); // y - F
    set->project(r, r);
    BB_PETSC(VecAYPX(r, -1.0, y)); // y - P(y - F)
  }
  PetscReal norm = 0;
  BB_PETSC(VecNorm(r, NORM_2, &norm));
  return norm;
}

void Problem::exact_hypergradient(Vec, Vec, Vec) {
  missing(*this, "an exact hypergradient");
}
void Problem::report_metrics(Vec, Vec, Record&) {}
void Problem::export_data(hid_t) const {
  missing(*this, "-export_problem");
}

} // namespace bilevel
