#include "bilevel/core/power_iteration.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"

#include <utility>

namespace bilevel {

void set_power_start(Vec v) {
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(v, &a));
  for (PetscInt i = begin; i < end; ++i)
    a[i - begin] = 1.0 + 0.01 * static_cast<double>(i % 7);
  BB_PETSC(VecRestoreArray(v, &a));
}

double power_iteration(Vec v, const std::function<void(Vec in, Vec out)>& apply, int iterations) {
  OwnedVec current = copy_of(v), next = duplicate(v);
  PetscScalar lambda = 0;
  for (int it = 0; it < iterations; ++it) {
    PetscReal norm = 0;
    BB_PETSC(VecNormalize(current, &norm));
    apply(current, next);
    BB_PETSC(VecDot(current, next, &lambda));
    std::swap(current, next);
  }
  BB_PETSC(VecCopy(current, v));
  return static_cast<double>(lambda);
}

} // namespace bilevel
