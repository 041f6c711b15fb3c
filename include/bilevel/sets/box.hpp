#pragma once
// The box {lo <= y <= hi} (a nonnegative orthant is lo = 0, hi = +inf). Separable, so every
// operation is local to each rank's part of the Vec.
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class Box final : public ConstraintSet {
public:
  Box(double lo, double hi);
  std::string name() const override;
  void project(Vec u, Vec out) const override;
  /// The 0/1 mask of free coordinates (lo < u < hi) times v; at u == lo or hi the coordinate
  /// counts as active.
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  void active_mask(Vec u, Vec mask) const override;
  bool bounds(Vec lower, Vec upper) const override;

private:
  double lo_, hi_;
};

} // namespace bilevel
