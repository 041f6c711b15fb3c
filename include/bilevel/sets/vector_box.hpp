#pragma once
// The box {lower <= y <= upper} with bounds that differ per coordinate, held as distributed Vecs
// laid out like y (box_qp_bilevel's lower level). Separable, so every operation is local.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class VectorBox final : public ConstraintSet {
public:
  /// Copies the bounds; throws InputError where a lower bound exceeds its upper bound.
  VectorBox(Vec lower, Vec upper);
  std::string name() const override { return "box[lower_i, upper_i]"; }
  void project(Vec u, Vec out) const override;
  /// The 0/1 mask of free coordinates (lower_i < u_i < upper_i) times v.
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  void active_mask(Vec u, Vec mask) const override;
  bool bounds(Vec lower, Vec upper) const override;

private:
  /// out_i = op(u_i, v_i, lower_i, upper_i) over this rank's entries; out may alias u or v.
  template <class Op> void local_map(Vec u, Vec v, Vec out, Op op) const;

  OwnedVec lower_, upper_;
};

} // namespace bilevel
