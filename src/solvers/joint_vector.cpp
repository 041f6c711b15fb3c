#include "bilevel/solvers/joint_vector.hpp"

#include "bilevel/core/error.hpp"

namespace bilevel {

namespace {
Vec part(Vec joint, PetscInt index) {
  Vec sub = nullptr;
  BB_PETSC(VecNestGetSubVec(joint, index, &sub));
  return sub;
}
} // namespace

OwnedVec create_joint(Vec x_model, Vec y_model) {
  // The nest takes its own references to the parts, so these handles may go.
  OwnedVec x = duplicate(x_model), y = duplicate(y_model);
  Vec parts[2] = {x, y};
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(x_model), &comm));
  OwnedVec joint;
  BB_PETSC(VecCreateNest(comm, 2, nullptr, parts, joint.receive()));
  return joint;
}

Vec x_part(Vec joint) {
  return part(joint, 0);
}
Vec y_part(Vec joint) {
  return part(joint, 1);
}

} // namespace bilevel
