#include "bilevel/sets/lower_bound.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>

namespace bilevel {

LowerBound::LowerBound(Vec psi) : psi_(copy_of(psi)) {}

void LowerBound::project(Vec u, Vec out) const {
  BB_PETSC(VecPointwiseMax(out, u, psi_));
}

void LowerBound::project_jacobian(Vec u, Vec v, Vec out) const {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar *pu = nullptr, *pv = nullptr, *pp = nullptr;
  BB_PETSC(VecGetArrayRead(u, &pu));
  BB_PETSC(VecGetArrayRead(psi_, &pp));
  // `out` may alias v: read v's values before writing through out's array.
  if (v == out) {
    PetscScalar* po = nullptr;
    BB_PETSC(VecGetArray(out, &po));
    for (PetscInt i = 0; i < n; ++i)
      po[i] = pu[i] > pp[i] ? po[i] : 0.0;
    BB_PETSC(VecRestoreArray(out, &po));
  } else {
    PetscScalar* po = nullptr;
    BB_PETSC(VecGetArrayRead(v, &pv));
    BB_PETSC(VecGetArray(out, &po));
    for (PetscInt i = 0; i < n; ++i)
      po[i] = pu[i] > pp[i] ? pv[i] : 0.0;
    BB_PETSC(VecRestoreArray(out, &po));
    BB_PETSC(VecRestoreArrayRead(v, &pv));
  }
  BB_PETSC(VecRestoreArrayRead(psi_, &pp));
  BB_PETSC(VecRestoreArrayRead(u, &pu));
}

void LowerBound::active_mask(Vec u, Vec mask) const {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar* pp = nullptr;
  BB_PETSC(VecGetArrayRead(psi_, &pp));
  // mask may alias u: copy first, then compare in place.
  if (mask != u)
    BB_PETSC(VecCopy(u, mask));
  PetscScalar* pm = nullptr;
  BB_PETSC(VecGetArray(mask, &pm));
  for (PetscInt i = 0; i < n; ++i)
    pm[i] = pm[i] > pp[i] ? 0.0 : 1.0;
  BB_PETSC(VecRestoreArray(mask, &pm));
  BB_PETSC(VecRestoreArrayRead(psi_, &pp));
}

bool LowerBound::bounds(Vec lower, Vec upper) const {
  BB_PETSC(VecCopy(psi_, lower));
  BB_PETSC(VecSet(upper, PETSC_INFINITY));
  return true;
}

} // namespace bilevel
