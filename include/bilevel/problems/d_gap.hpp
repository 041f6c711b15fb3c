#pragma once
// The D-gap merit function of a VI (docs/algorithms.md §3.3; paper Definition 3 with G = I): for c
// > 0
//   z_c = P_Y(y - F/c),   phi_c = <F, y - z_c> - (c/2) ||y - z_c||^2   (the sup in paper eq. 3),
// and for b > a > 0,  phi_ab = phi_a - phi_b >= ((b - a)/2) ||y - z_b||^2 >= 0 (paper eq. 6),
// zero exactly at the VI's solutions. It is the suite's lower-level residual for VI problems.
// Works on distributed Vecs; every operation is a projection, a dot product and a norm.
#include <petscvec.h>

namespace bilevel {

class ConstraintSet;

class DGap {
public:
  /// Throws InputError unless b > a > 0.
  DGap(double a, double b);
  /// Reads -problem_dgap_a and -problem_dgap_b (inside the caller's OptionSection).
  static DGap from_options(double default_a, double default_b);

  double a() const { return a_; }
  double b() const { return b_; }

  /// phi_ab(y) given F = F(y, x); `set` nullptr means Y = R^n; `work` is laid out like y.
  double evaluate(Vec y, Vec F, const ConstraintSet* set, Vec work) const;
  /// phi_c(y) given F = F(y, x); leaves y - z_c in `work`.
  static double regularized_gap(Vec y, Vec F, const ConstraintSet* set, double c, Vec work);

private:
  double a_, b_;
};

} // namespace bilevel
