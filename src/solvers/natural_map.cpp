#include "bilevel/solvers/natural_map.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

NaturalMap::NaturalMap(Problem& problem, Vec y_model, double b)
    : problem_(problem), b_(b), work_(duplicate(y_model)) {
  if (!(b > 0.0))
    throw InputError("natural map: b must be positive, got " + std::to_string(b));
}

void NaturalMap::project_jacobian(Vec u, Vec v, Vec out) const {
  if (const ConstraintSet* set = problem_.lower_set())
    set->project_jacobian(u, v, out);
  else if (v != out)
    BB_PETSC(VecCopy(v, out));
}

void NaturalMap::step(Vec x, Vec y, Vec u, Vec y_next) {
  problem_.vi_map(x, y, u);
  BB_PETSC(VecAYPX(u, -1.0 / b_, y)); // u = y - F/b
  if (const ConstraintSet* set = problem_.lower_set())
    set->project(u, y_next);
  else
    BB_PETSC(VecCopy(u, y_next));
}

void NaturalMap::jac_y(Vec x, Vec y, Vec u, Vec v, Vec out) {
  problem_.vi_jac_y(x, y, v, work_);
  BB_PETSC(VecAYPX(work_, -1.0 / b_, v)); // v - grad_y F v / b
  project_jacobian(u, work_, out);
}

void NaturalMap::jac_y_transpose(Vec x, Vec y, Vec u, Vec v, Vec out) {
  project_jacobian(u, v, work_);
  problem_.vi_jac_y_transpose(x, y, work_, out);
  BB_PETSC(VecAYPX(out, -1.0 / b_, work_)); // D v - grad_y F' D v / b
}

void NaturalMap::jac_x(Vec x, Vec y, Vec u, Vec w, Vec out_y) {
  problem_.vi_jac_x(x, y, w, work_);
  project_jacobian(u, work_, out_y);
  BB_PETSC(VecScale(out_y, -1.0 / b_));
}

void NaturalMap::jac_x_transpose(Vec x, Vec y, Vec u, Vec v, Vec out_x) {
  project_jacobian(u, v, work_);
  problem_.vi_jac_x_transpose(x, y, work_, out_x);
  BB_PETSC(VecScale(out_x, -1.0 / b_));
}

NaturalMapParameter resolve_natural_map_parameter(double b_option, Problem& problem, Vec x0, Vec y0,
                                                  const std::string& algorithm) {
  const Curvature c = problem.lower_curvature(x0, y0, CurvatureNeed::both);
  if (!(c.mu > 0.0) && !(b_option > 0.0))
    throw InputError(algorithm + ": problem '" + problem.name() +
                     "' reports no strong monotonicity (mu = 0): give -alg_b");
  const double L = c.lipschitz, mu = c.mu;
  // F = grad_y g has a symmetric Jacobian with spectrum in [mu, L]: I - grad_y F / L has spectrum
  // in [0, 1 - mu/L] and the projection is nonexpansive, so b = L contracts by 1 - mu/L, where
  // Lemma 12's b = L^2/mu (for any strongly monotone F) only gives sqrt(1 - mu^2/L^2).
  const bool gradient_map = problem.structure().form == LowerForm::objective;
  const double b = b_option > 0.0 ? b_option : gradient_map ? L : L * L / mu;
  if (!(mu > 0.0))
    return {b, std::nan("")};
  if (gradient_map && b >= L)
    return {b, 1.0 - mu / b};
  return {b, std::sqrt(std::max(0.0, 1.0 - 2.0 * mu / b + L * L / (b * b)))};
}

} // namespace bilevel
