#include "bilevel/core/operator_solver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/options.hpp"

namespace bilevel {

void OperatorSolver::declare_options(const std::string& prefix, const std::string& ksp_type,
                                     double rtol) {
  (void)options::get_string("-" + prefix + "ksp_type", ksp_type, "Krylov method");
  (void)options::get_string("-" + prefix + "pc_type", "none", "preconditioner");
  (void)options::get_real("-" + prefix + "ksp_rtol", rtol, 0.0, 1.0, "relative tolerance");
  (void)options::get_int("-" + prefix + "ksp_max_it", 1000, 1, 100000000, "Krylov iteration limit");
}

OperatorSolver::OperatorSolver(MPI_Comm comm, Vec model, const std::string& prefix,
                               const std::string& ksp_type, double rtol) {
  PetscInt local = 0, global = 0;
  BB_PETSC(VecGetLocalSize(model, &local));
  BB_PETSC(VecGetSize(model, &global));
  BB_PETSC(MatCreateShell(comm, local, local, global, global, this, shell_.receive()));
  BB_PETSC(MatShellSetOperation(shell_, MATOP_MULT, reinterpret_cast<void (*)(void)>(mult)));
  BB_PETSC(KSPCreate(comm, ksp_.receive()));
  BB_PETSC(KSPSetOptionsPrefix(ksp_, prefix.c_str()));
  BB_PETSC(KSPSetOperators(ksp_, shell_, shell_));
  BB_PETSC(KSPSetType(ksp_, ksp_type.c_str()));
  PC pc = nullptr;
  BB_PETSC(KSPGetPC(ksp_, &pc));
  BB_PETSC(PCSetType(pc, PCNONE));
  BB_PETSC(KSPSetTolerances(ksp_, rtol, 1e-50, PETSC_DEFAULT, 1000));
  BB_PETSC(KSPSetInitialGuessNonzero(ksp_, PETSC_TRUE)); // callers warm-start
  watch_for_stop(ksp_);
  BB_PETSC(KSPSetFromOptions(ksp_));
}

PetscErrorCode OperatorSolver::mult(Mat shell, Vec in, Vec out) {
  PetscFunctionBeginUser;
  OperatorSolver* self = nullptr;
  PetscCall(MatShellGetContext(shell, &self));
  // An exception must not cross PETSc's C frames: report it as a PETSc error instead.
  try {
    (*self->apply_)(in, out);
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "%s", e.what());
  }
  PetscFunctionReturn(0);
}

void OperatorSolver::set_absolute_tolerance(double atol) {
  PetscReal rtol = 0, divtol = 0;
  PetscInt max_it = 0;
  BB_PETSC(KSPGetTolerances(ksp_, &rtol, nullptr, &divtol, &max_it));
  BB_PETSC(KSPSetTolerances(ksp_, rtol, atol, divtol, max_it));
}

KrylovOutcome krylov_outcome(KSP ksp) {
  KSPConvergedReason reason;
  KrylovOutcome outcome{};
  BB_PETSC(KSPGetConvergedReason(ksp, &reason));
  BB_PETSC(KSPGetIterationNumber(ksp, &outcome.iterations));
  outcome.converged = reason > 0;
  return outcome;
}

OperatorSolver::Outcome OperatorSolver::solve(const Apply& apply, Vec rhs, Vec v) {
  apply_ = &apply;
  const PetscErrorCode code = KSPSolve(ksp_, rhs, v);
  apply_ = nullptr;
  BB_PETSC(code);
  return krylov_outcome(ksp_);
}

} // namespace bilevel
