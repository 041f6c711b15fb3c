#pragma once
// The scaled simplex {y >= 0, sum(y) = total}. Projection: y = max(u - tau, 0) with tau the root
// of sum(max(u - tau, 0)) = total; tau is bracketed by bisection with one global reduction per
// step and then made exact from the identified support (tau = (sum_S u - total)/|S|), so the
// result is exact to round-off and identical in exact arithmetic on every rank layout.
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class Simplex final : public ConstraintSet {
public:
  explicit Simplex(double total = 1.0);
  std::string name() const override;
  void project(Vec u, Vec out) const override;
  /// On the support S of P(u): v_S - mean(v_S) 1_S; zero off the support.
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  /// 1 where P(u) is 0 (the bound y_i >= 0 is active).
  void active_mask(Vec u, Vec mask) const override;

  /// The threshold tau of the projection of u.
  double threshold(Vec u) const;

private:
  double total_;
};

} // namespace bilevel
