#include "bilevel/problems/d_gap.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <string>

namespace bilevel {

DGap::DGap(double a, double b) : a_(a), b_(b) {
  if (!(a > 0.0 && b > a))
    throw InputError("D-gap merit function needs b > a > 0; got a = " + std::to_string(a) +
                     ", b = " + std::to_string(b));
}

DGap DGap::from_options(double default_a, double default_b) {
  const double a = options::get_positive("-problem_dgap_a", default_a,
                                         "D-gap parameter a (lower_residual = phi_ab, b > a > 0)");
  const double b = options::get_positive("-problem_dgap_b", default_b, "D-gap parameter b > a");
  return DGap(a, b);
}

double DGap::regularized_gap(Vec y, Vec F, const ConstraintSet* set, double c, Vec work) {
  BB_PETSC(VecWAXPY(work, -1.0 / c, F, y)); // u = y - F/c
  if (set)
    set->project(work, work);       // z_c = P_Y(u)
  BB_PETSC(VecAYPX(work, -1.0, y)); // d = y - z_c
  PetscScalar dot = 0;
  PetscReal norm2 = 0;
  BB_PETSC(VecDotNorm2(F, work, &dot, &norm2)); // <F, d> and ||d||^2 in one reduction
  return static_cast<double>(dot) - 0.5 * c * static_cast<double>(norm2);
}

double DGap::evaluate(Vec y, Vec F, const ConstraintSet* set, Vec work) const {
  return regularized_gap(y, F, set, a_, work) - regularized_gap(y, F, set, b_, work);
}

} // namespace bilevel
