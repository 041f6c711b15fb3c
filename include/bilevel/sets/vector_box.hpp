#pragma once
// The box {lower <= y <= upper} with bounds that differ per coordinate, held as distributed Vecs
// laid out like y (box_qp_bilevel's lower level). Separable, so every operation is local.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class VectorBox final : public ConstraintSet {
public:
  /// Copies the bounds. Crossed bounds are the owner's to report (box_qp_bilevel's QP solve
  /// returns kInfeasibleBounds): the set itself does not check them.
  VectorBox(Vec lower, Vec upper);
  std::string name() const override { return "box[lower_i, upper_i]"; }
  void project(Vec u, Vec out) const override;
  /// The 0/1 mask of free coordinates (lower_i < u_i < upper_i) times v.
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  void active_mask(Vec u, Vec mask) const override;
  bool bounds(Vec lower, Vec upper) const override;

private:
  OwnedVec lower_, upper_;
};

} // namespace bilevel
