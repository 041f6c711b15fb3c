#include "bilevel/core/replicated_vec.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"

// PetscObjectStateGet: documented public API, declared in the private header in PETSc 3.18.
#include <petsc/private/petscimpl.h>

#include <algorithm>

namespace bilevel {

Eigen::VectorXd gather_to_all(Vec v) {
  OwnedScatter scatter;
  OwnedVec all;
  BB_PETSC(VecScatterCreateToAll(v, scatter.receive(), all.receive()));
  BB_PETSC(VecScatterBegin(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  BB_PETSC(VecScatterEnd(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt n = 0;
  BB_PETSC(VecGetSize(all, &n));
  record_collective(Collective::gather, 8.0 * n);
  const PetscScalar* values = nullptr;
  BB_PETSC(VecGetArrayRead(all, &values));
  Eigen::VectorXd out = Eigen::Map<const Eigen::VectorXd>(values, n);
  BB_PETSC(VecRestoreArrayRead(all, &values));
  return out;
}

void scatter_owned(const Eigen::VectorXd& full, Vec v) {
  PetscInt n = 0, begin = 0, end = 0;
  BB_PETSC(VecGetSize(v, &n));
  if (n != full.size())
    throw RuntimeFailure("a vector of length " + std::to_string(full.size()) +
                         " written to a Vec of length " + std::to_string(n));
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  PetscScalar* values = nullptr;
  BB_PETSC(VecGetArray(v, &values));
  for (PetscInt i = begin; i < end; ++i)
    values[i - begin] = full[i];
  BB_PETSC(VecRestoreArray(v, &values));
}

const Eigen::VectorXd& VecGatherer::gather(Vec v) {
  PetscObjectId id = 0;
  PetscObjectState state = 0;
  BB_PETSC(PetscObjectGetId(reinterpret_cast<PetscObject>(v), &id));
  BB_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(v), &state));
  const Remembered* hit = nullptr;
  for (const auto& r : remembered_)
    if (r.id == id && r.state == state)
      hit = &r;
#ifndef NDEBUG
  // The decision is local; it is only safe if every rank makes the same one (parallel Vecs are
  // modified collectively throughout the suite). Debug builds check that assumption.
  int local_hit = hit != nullptr, all_hit = 0, any_hit = 0;
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(v), &comm));
  MPI_Allreduce(&local_hit, &all_hit, 1, MPI_INT, MPI_MIN, comm);
  MPI_Allreduce(&local_hit, &any_hit, 1, MPI_INT, MPI_MAX, comm);
  if (all_hit != any_hit)
    throw RuntimeFailure("VecGatherer: ranks disagree whether a Vec changed (modified on some "
                         "ranks only?)");
#endif
  if (hit)
    return hit->values;
  PetscInt global = 0, local = 0;
  BB_PETSC(VecGetSize(v, &global));
  BB_PETSC(VecGetLocalSize(v, &local));
  auto layout = std::find_if(layouts_.begin(), layouts_.end(), [&](const Layout& l) {
    return l.global == global && l.local == local;
  });
  if (layout == layouts_.end()) {
    Layout fresh{global, local, {}, {}};
    BB_PETSC(VecScatterCreateToAll(v, fresh.scatter.receive(), fresh.all.receive()));
    layouts_.push_back(std::move(fresh));
    layout = layouts_.end() - 1;
  }
  BB_PETSC(VecScatterBegin(layout->scatter, v, layout->all, INSERT_VALUES, SCATTER_FORWARD));
  BB_PETSC(VecScatterEnd(layout->scatter, v, layout->all, INSERT_VALUES, SCATTER_FORWARD));
  record_collective(Collective::gather, 8.0 * global);
  Remembered& slot = remembered_[next_];
  next_ = (next_ + 1) % kRemembered;
  const PetscScalar* values = nullptr;
  BB_PETSC(VecGetArrayRead(layout->all, &values));
  slot.values = Eigen::Map<const Eigen::VectorXd>(values, global);
  BB_PETSC(VecRestoreArrayRead(layout->all, &values));
  slot.id = id;
  slot.state = state;
  return slot.values;
}

} // namespace bilevel
