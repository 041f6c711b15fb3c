#pragma once
// Moving between a distributed Vec and a full copy on every rank: for small vectors that
// replicated computations (Eigen oracles, dense projections, exports) need whole.
#include <Eigen/Dense>
#include <petscvec.h>

namespace bilevel {

/// The whole of `v` on every rank (collective).
Eigen::VectorXd gather_to_all(Vec v);
/// Writes this rank's part of `full` (the whole vector, held by every rank) into `v`.
void scatter_owned(const Eigen::VectorXd& full, Vec v);

} // namespace bilevel
