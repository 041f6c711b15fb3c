#include "bilevel/qp/box_ffoqp_oracle.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/principal_submatrix.hpp"

namespace bilevel {

BoxQpOracle::Outcome BoxFfoQpOracle::adjoint(const BoxQp& qp, Vec y, Vec, Vec dl_dy, Vec w) {
  const OwnedIS free = free_rows(qp, y, active_tolerance_);
  const OwnedMat H_free = principal_submatrix(qp.H, free);
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(y), &comm));
  // A new KSP per call: the free set, hence the operator's size, changes with x.
  OwnedKSP ksp;
  BB_PETSC(KSPCreate(comm, ksp.receive()));
  BB_PETSC(KSPSetOptionsPrefix(ksp, prefix_.c_str()));
  BB_PETSC(KSPSetOperators(ksp, H_free, H_free));
  BB_PETSC(KSPSetType(ksp, KSPCG));
  PC pc = nullptr;
  BB_PETSC(KSPGetPC(ksp, &pc));
  BB_PETSC(PCSetType(pc, PCNONE));
  BB_PETSC(KSPSetTolerances(ksp, rtol_, 1e-50, PETSC_DEFAULT, 1000));
  BB_PETSC(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE)); // w's free part from the last call
  watch_for_stop(ksp);
  BB_PETSC(KSPSetFromOptions(ksp));
  // w = 0 on the active rows; its free part, solved in place, starts from w's old values.
  Vec rhs = nullptr, w_free = nullptr;
  OwnedVec w_old = copy_of(w);
  BB_PETSC(VecSet(w, 0.0));
  BB_PETSC(VecGetSubVector(w_old, free, &w_free));
  OwnedVec solution = copy_of(w_free);
  BB_PETSC(VecRestoreSubVector(w_old, free, &w_free));
  BB_PETSC(VecGetSubVector(dl_dy, free, &rhs));
  const PetscErrorCode code = KSPSolve(ksp, rhs, solution);
  BB_PETSC(VecRestoreSubVector(dl_dy, free, &rhs));
  BB_PETSC(code);
  BB_PETSC(VecISCopy(w, free, SCATTER_FORWARD, solution));
  return krylov_outcome(ksp);
}

} // namespace bilevel
