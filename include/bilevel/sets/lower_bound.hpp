#pragma once
// The set {y >= psi} for a coordinate-wise bound vector psi (an obstacle): separable, so every
// operation is local to each rank's part of the Vec. psi is copied and must have y's layout.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class LowerBound final : public ConstraintSet {
public:
  explicit LowerBound(Vec psi);
  std::string name() const override { return "lower_bound"; }
  void project(Vec u, Vec out) const override;
  /// v on the free coordinates (u > psi), 0 where u <= psi (the contact set counts as active).
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  void active_mask(Vec u, Vec mask) const override;
  bool bounds(Vec lower, Vec upper) const override;
  Vec bound() const { return psi_; }

private:
  OwnedVec psi_;
};

} // namespace bilevel
