#include "bilevel/solvers/snes_vi_solver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <petscsnes.h>

namespace bilevel {

namespace {
constexpr PetscInt kMaxNewtonSteps = 100;
constexpr double kKspRtol = 1e-10;
constexpr double kKrylovShareOfTolerance = 1e-2;

/// Runs `body`, turning a C++ exception into a PETSc error (none may cross PETSc's C frames).
template <class Body> PetscErrorCode guarded(Body body) {
  PetscFunctionBeginUser;
  try {
    body();
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "%s", e.what());
  }
  PetscFunctionReturn(0);
}
} // namespace

void SnesViSolver::declare_options(const std::string& prefix) {
  (void)options::get_int("-" + prefix + "snes_max_it", kMaxNewtonSteps, 1, 100000000,
                         "SNESVI Newton step limit");
  (void)options::get_string("-" + prefix + "ksp_type", "cg|gmres",
                            "SNESVI Krylov method (CG with an objective g, GMRES for a VI)");
  (void)options::get_string("-" + prefix + "pc_type", "hypre",
                            "SNESVI preconditioner (problems with an assembled Jacobian; none "
                            "otherwise)");
  (void)options::get_real("-" + prefix + "ksp_rtol", kKspRtol, 0.0, 1.0,
                          "SNESVI Krylov relative tolerance");
}

SnesViSolver::SnesViSolver(Problem& problem, Vec y_model, const std::string& prefix)
    : problem_(problem), y_linear_(duplicate(y_model)), lower_(duplicate(y_model)),
      upper_(duplicate(y_model)), residual_vec_(duplicate(y_model)) {
  // An unconstrained lower level is the VI with infinite bounds: SNESVI is then Newton's method.
  const ConstraintSet* set = problem.lower_set();
  if (!set) {
    BB_PETSC(VecSet(lower_, PETSC_NINFINITY));
    BB_PETSC(VecSet(upper_, PETSC_INFINITY));
  } else if (!set->bounds(lower_, upper_)) {
    throw InputError("snesvi: problem '" + problem.name() + "' has a lower set (" + set->name() +
                     ") not given by coordinate-wise bounds; accepted: bounds or none");
  }
  Mat assembled = problem.structure().constant_vi_jacobian
                      ? require<ViProblem>(problem).constant_jacobian_y()
                      : nullptr;
  BB_PETSC(SNESCreate(problem.comm(), snes_.receive()));
  BB_PETSC(SNESSetOptionsPrefix(snes_, prefix.c_str()));
  // Without bounds the active-set machinery has nothing to do: plain line-search Newton.
  BB_PETSC(SNESSetType(snes_, set ? SNESVINEWTONRSLS : SNESNEWTONLS));
  // The bounds need the function's Vec first (SNESVISetVariableBounds checks the layout).
  BB_PETSC(SNESSetFunction(snes_, residual_vec_, residual, this));
  if (set)
    BB_PETSC(SNESVISetVariableBounds(snes_, lower_, upper_));
  KSP ksp = nullptr;
  PC pc = nullptr;
  BB_PETSC(SNESGetKSP(snes_, &ksp));
  BB_PETSC(KSPGetPC(ksp, &pc));
  if (assembled) {
    BB_PETSC(SNESSetJacobian(snes_, assembled, assembled, jacobian, this));
    BB_PETSC(PCSetType(pc, PCHYPRE)); // BoomerAMG; GAMG fails when the active set changes size
  } else {
    PetscInt local = 0, global = 0;
    BB_PETSC(VecGetLocalSize(y_model, &local));
    BB_PETSC(VecGetSize(y_model, &global));
    BB_PETSC(MatCreateShell(problem.comm(), local, local, global, global, this, shell_.receive()));
    BB_PETSC(
        MatShellSetOperation(shell_, MATOP_MULT, reinterpret_cast<void (*)(void)>(shell_mult)));
    // The active-set method solves on the inactive block: a virtual submatrix of the shell.
    BB_PETSC(MatShellSetOperation(shell_, MATOP_CREATE_SUBMATRIX,
                                  reinterpret_cast<void (*)(void)>(shell_submatrix)));
    BB_PETSC(SNESSetJacobian(snes_, shell_, shell_, jacobian, this));
    BB_PETSC(PCSetType(pc, PCNONE));
  }
  // grad_y F is the Hessian of g when there is an objective: symmetric positive definite, and so
  // is every reduced block, where restarted GMRES stalls on ill-conditioned logistic Hessians.
  BB_PETSC(KSPSetType(ksp, problem.structure().form == LowerForm::objective ? KSPCG : KSPGMRES));
  BB_PETSC(KSPSetTolerances(ksp, kKspRtol, 1e-50, PETSC_DEFAULT, 10000));
  BB_PETSC(SNESSetTolerances(snes_, 0.0, 0.0, 0.0, kMaxNewtonSteps, PETSC_MAX_INT));
  BB_PETSC(SNESSetConvergenceTest(snes_, converged, this, nullptr));
  watch_for_stop(snes_);
  watch_for_stop(ksp);
  BB_PETSC(SNESSetFromOptions(snes_));
}

PetscErrorCode SnesViSolver::residual(SNES, Vec y, Vec out, void* self) {
  auto* s = static_cast<SnesViSolver*>(self);
  return guarded([&] { s->problem_.vi_map(s->x_, y, out); });
}

PetscErrorCode SnesViSolver::jacobian(SNES, Vec y, Mat, Mat, void* self) {
  // An assembled Jacobian is constant; the shell's products need the current point.
  auto* s = static_cast<SnesViSolver*>(self);
  return guarded([&] {
    if (s->shell_)
      BB_PETSC(VecCopy(y, s->y_linear_));
  });
}

PetscErrorCode SnesViSolver::shell_mult(Mat shell, Vec in, Vec out) {
  SnesViSolver* s = nullptr;
  PetscCall(MatShellGetContext(shell, &s));
  return guarded([&] { s->problem_.vi_jac_y(s->x_, s->y_linear_, in, out); });
}

PetscErrorCode SnesViSolver::shell_submatrix(Mat shell, IS rows, IS cols, MatReuse reuse,
                                             Mat* out) {
  PetscFunctionBeginUser;
  if (reuse == MAT_REUSE_MATRIX)
    PetscCall(MatSubMatrixVirtualUpdate(*out, shell, rows, cols));
  else
    PetscCall(MatCreateSubMatrixVirtual(shell, rows, cols, out));
  PetscFunctionReturn(0);
}

PetscErrorCode SnesViSolver::converged(SNES snes, PetscInt, PetscReal, PetscReal, PetscReal fnorm,
                                       SNESConvergedReason* reason, void* self) {
  auto* s = static_cast<SnesViSolver*>(self);
  return guarded([&] {
    Vec y = nullptr;
    BB_PETSC(SNESGetSolution(snes, &y));
    s->last_residual_ = s->problem_.lower_residual(s->x_, y);
    if (s->last_residual_ <= s->tolerance_)
      *reason = SNES_CONVERGED_FNORM_ABS;
    else if (PetscIsInfOrNanReal(fnorm))
      *reason = SNES_DIVERGED_FNORM_NAN;
    else
      *reason = SNES_CONVERGED_ITERATING;
  });
}

SnesViSolver::Outcome SnesViSolver::solve(Vec x, Vec y, double tolerance) {
  x_ = x;
  tolerance_ = tolerance;
  // The Newton steps need only be accurate to a fraction of the tolerance: a Krylov solve asked
  // for rtol 1e-10 of an already small residual runs into round-off (CG breaks down and Newton
  // stops short, at 6e-8 on logreg_hyper from a warm start).
  KSP ksp = nullptr;
  PetscReal rtol = 0, abstol = 0, dtol = 0;
  PetscInt max_it = 0;
  BB_PETSC(SNESGetKSP(snes_, &ksp));
  BB_PETSC(KSPGetTolerances(ksp, &rtol, &abstol, &dtol, &max_it));
  BB_PETSC(KSPSetTolerances(ksp, rtol, kKrylovShareOfTolerance * tolerance, dtol, max_it));
  const PetscErrorCode code = SNESSolve(snes_, nullptr, y);
  x_ = nullptr;
  BB_PETSC(code);
  Outcome out{};
  SNESConvergedReason reason{};
  BB_PETSC(SNESGetConvergedReason(snes_, &reason));
  BB_PETSC(SNESGetIterationNumber(snes_, &out.newton_steps));
  BB_PETSC(SNESGetLinearSolveIterations(snes_, &out.linear_iterations));
  out.converged = reason > 0;
  out.residual = last_residual_;
  return out;
}

} // namespace bilevel
