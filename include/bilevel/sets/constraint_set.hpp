#pragma once
// A closed convex set (lower Y or upper X) as the algorithms use it: Euclidean projection, the
// projection's Jacobian applied to a vector, and the active set. Sets that are separable across
// coordinates act on distributed Vecs locally; the rest reduce across the Vec's communicator.
#include <petscvec.h>

#include <string>

namespace bilevel {

class ConstraintSet {
public:
  virtual ~ConstraintSet() = default;
  virtual std::string name() const = 0;
  /// out = P(u); `out` may alias `u`.
  virtual void project(Vec u, Vec out) const = 0;
  /// out = DP(u) v, the Jacobian of the projection at u applied to v (at kinks: the
  /// one-sided choice documented by each set). DP(u) is symmetric for Euclidean projections,
  /// so it is also the transpose product.
  virtual void project_jacobian(Vec u, Vec v, Vec out) const = 0;
  /// Marks with 1.0 the coordinates of P(u) that lie on an active bound, 0.0 elsewhere.
  virtual void active_mask(Vec u, Vec mask) const = 0;
  /// For coordinate-wise bounds {lower <= y <= upper}: fills both (PETSC_NINFINITY /
  /// PETSC_INFINITY where unbounded) and returns true, which is what PETSc's SNESVI needs;
  /// other sets return false and leave them alone.
  virtual bool bounds(Vec /*lower*/, Vec /*upper*/) const { return false; }
};

} // namespace bilevel
