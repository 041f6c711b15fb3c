#include "bilevel/sets/vector_box.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>

namespace bilevel {

VectorBox::VectorBox(Vec lower, Vec upper) : lower_(duplicate(lower)), upper_(duplicate(upper)) {
  BB_PETSC(VecCopy(lower, lower_));
  BB_PETSC(VecCopy(upper, upper_));
  OwnedVec gap = duplicate(lower);
  BB_PETSC(VecWAXPY(gap, -1.0, lower, upper));
  PetscReal smallest = 0;
  BB_PETSC(VecMin(gap, nullptr, &smallest));
  if (!(smallest >= 0.0))
    throw InputError("box: a lower bound exceeds its upper bound (by " + std::to_string(-smallest) +
                     ")");
}

template <class Op> void VectorBox::local_map(Vec u, Vec v, Vec out, Op op) const {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar *pu = nullptr, *pv = nullptr, *plo = nullptr, *phi = nullptr;
  PetscScalar* po = nullptr;
  BB_PETSC(VecGetArrayRead(lower_, &plo));
  BB_PETSC(VecGetArrayRead(upper_, &phi));
  BB_PETSC(VecGetArrayRead(u, &pu));
  if (v != u)
    BB_PETSC(VecGetArrayRead(v, &pv));
  else
    pv = pu;
  // `out` may alias u or v: the inputs' arrays are taken first, the output written through its own.
  BB_PETSC(VecGetArray(out, &po));
  for (PetscInt i = 0; i < n; ++i)
    po[i] = op(pu[i], pv[i], plo[i], phi[i]);
  BB_PETSC(VecRestoreArray(out, &po));
  if (v != u)
    BB_PETSC(VecRestoreArrayRead(v, &pv));
  BB_PETSC(VecRestoreArrayRead(u, &pu));
  BB_PETSC(VecRestoreArrayRead(upper_, &phi));
  BB_PETSC(VecRestoreArrayRead(lower_, &plo));
}

void VectorBox::project(Vec u, Vec out) const {
  local_map(u, u, out,
            [](double ui, double, double lo, double hi) { return std::clamp(ui, lo, hi); });
}

void VectorBox::project_jacobian(Vec u, Vec v, Vec out) const {
  local_map(u, v, out, [](double ui, double vi, double lo, double hi) {
    return (ui > lo && ui < hi) ? vi : 0.0;
  });
}

void VectorBox::active_mask(Vec u, Vec mask) const {
  local_map(u, u, mask, [](double ui, double, double lo, double hi) {
    return (ui > lo && ui < hi) ? 0.0 : 1.0;
  });
}

bool VectorBox::bounds(Vec lower, Vec upper) const {
  BB_PETSC(VecCopy(lower_, lower));
  BB_PETSC(VecCopy(upper_, upper));
  return true;
}

} // namespace bilevel
