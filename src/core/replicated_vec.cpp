#include "bilevel/core/replicated_vec.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

Eigen::VectorXd gather_to_all(Vec v) {
  OwnedScatter scatter;
  OwnedVec all;
  BB_PETSC(VecScatterCreateToAll(v, scatter.receive(), all.receive()));
  BB_PETSC(VecScatterBegin(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  BB_PETSC(VecScatterEnd(scatter, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt n = 0;
  BB_PETSC(VecGetSize(all, &n));
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

} // namespace bilevel
