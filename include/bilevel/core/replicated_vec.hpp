#pragma once
// Moving between a distributed Vec and a full copy on every rank: for small vectors that
// replicated computations (Eigen oracles, dense projections, exports) need whole.
#include "bilevel/core/petsc_handle.hpp"

#include <Eigen/Dense>
#include <petscvec.h>

#include <array>
#include <vector>

namespace bilevel {

/// The whole of `v` on every rank (collective).
Eigen::VectorXd gather_to_all(Vec v);
/// Writes this rank's part of `full` (the whole vector, held by every rank) into `v`.
void scatter_owned(const Eigen::VectorXd& full, Vec v);

/// gather_to_all for the hot path of replicated oracles (a Krylov solve gathers the same x
/// and y for every product): one scatter context per layout, built once, and the last few
/// gathered vectors remembered by PETSc object id and state, so an unchanged Vec is not
/// communicated again. Collective like gather_to_all: every rank makes the same calls, so the
/// caches agree and either all ranks communicate or none does.
class VecGatherer {
public:
  /// The whole of `v`; the reference is valid until the next gather (which may reuse its slot).
  const Eigen::VectorXd& gather(Vec v);

private:
  struct Layout {
    PetscInt global, local;
    PetscHandle<VecScatter, VecScatterDestroy> scatter;
    PetscHandle<Vec, VecDestroy> all;
  };
  struct Remembered {
    PetscObjectId id = -1;
    PetscObjectState state = -1;
    Eigen::VectorXd values;
  };
  static constexpr std::size_t kRemembered = 4;
  std::vector<Layout> layouts_;
  std::array<Remembered, kRemembered> remembered_;
  std::size_t next_ = 0; ///< round-robin slot to overwrite
};

} // namespace bilevel
