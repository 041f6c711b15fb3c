#include "bilevel/qp/tao_box_qp_solver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/principal_submatrix.hpp"

namespace bilevel {

TaoBoxQpSolver::Config TaoBoxQpSolver::Config::from_options(const std::string& prefix) {
  Config c;
  const std::string p = "-" + prefix;
  c.type = options::get_choice(p + "tao_type", c.type,
                               {TAOGPCG, TAOTRON, TAOBLMVM, TAOBQNLS, TAOBNLS, TAOBNTR},
                               "TAO method of the bound-constrained lower QP");
  c.rtol = options::get_positive(p + "tao_rtol", c.rtol,
                                 "stop the lower QP at ||P(y - g) - y|| <= rtol ||q|| (2-norms)");
  c.max_iterations = options::get_int(p + "tao_max_it", c.max_iterations, 1, 100000000,
                                      "TAO iteration limit of the lower QP");
  return c;
}

TaoBoxQpSolver::TaoBoxQpSolver(MPI_Comm comm, Vec y_model, const std::string& prefix,
                               const Config& config)
    : config_(config), start_(duplicate(y_model)), work_(duplicate(y_model)) {
  BB_PETSC(TaoCreate(comm, tao_.receive()));
  BB_PETSC(TaoSetOptionsPrefix(tao_, prefix.c_str()));
  BB_PETSC(TaoSetType(tao_, config_.type.c_str()));
  BB_PETSC(TaoSetMaximumIterations(tao_, config_.max_iterations));
  BB_PETSC(TaoSetMaximumFunctionEvaluations(tao_, 100 * config_.max_iterations));
  KSP ksp = nullptr;
  BB_PETSC(TaoGetKSP(tao_, &ksp));
  if (ksp) {
    PC pc = nullptr;
    BB_PETSC(KSPGetPC(ksp, &pc));
    BB_PETSC(PCSetType(pc, PCJACOBI));
    watch_for_stop(ksp);
  }
  watch_for_stop(tao_);
  BB_PETSC(TaoSetFromOptions(tao_));
}

PetscErrorCode TaoBoxQpSolver::objective_and_gradient(Tao, Vec y, PetscReal* value, Vec gradient,
                                                      void* self) {
  PetscFunctionBeginUser;
  const BoxQp& qp = *static_cast<TaoBoxQpSolver*>(self)->qp_;
  PetscScalar yq = 0, ygq = 0;
  PetscCall(MatMult(qp.H, y, gradient));
  PetscCall(VecAXPY(gradient, -1.0, qp.q));
  // 1/2 y'Hy - q'y = 1/2 y'(Hy - q) - 1/2 q'y: both dot products in one reduction (TRON
  // evaluates this about 33 times per solve, and every reduction waits for the slowest rank).
  PetscCall(VecDotBegin(y, gradient, &ygq));
  PetscCall(VecDotBegin(y, qp.q, &yq));
  PetscCall(VecDotEnd(y, gradient, &ygq));
  PetscCall(VecDotEnd(y, qp.q, &yq));
  *value = 0.5 * (ygq - yq);
  PetscFunctionReturn(0);
}

PetscErrorCode TaoBoxQpSolver::hessian(Tao, Vec, Mat, Mat, void*) {
  PetscFunctionBeginUser;
  PetscFunctionReturn(0); // H is constant and already assembled
}

BoxQpResult TaoBoxQpSolver::solve(const BoxQp& qp, Vec y, Vec gradient) {
  const std::optional<double> scale = begin_box_qp_solve(qp, y, start_);
  if (!scale)
    return {BoxQpStatus::kInfeasibleBounds, 0, 0.0};
  qp_ = &qp;
  BB_PETSC(TaoSetSolution(tao_, y));
  BB_PETSC(TaoSetVariableBounds(tao_, qp.lower, qp.upper));
  BB_PETSC(TaoSetObjectiveAndGradient(tao_, work_, objective_and_gradient, this));
  BB_PETSC(TaoSetHessian(tao_, qp.H, qp.H, hessian, this));
  BB_PETSC(TaoSetTolerances(tao_, config_.rtol * *scale, 0.0, 0.0));
  PetscErrorCode code = 0;
  {
    // TRON (and the other active-set types) extract H's free-set block every iteration.
    const PrincipalSubmatrixScope one_pass_extraction(qp.H);
    code = TaoSolve(tao_);
  }
  qp_ = nullptr;
  BB_PETSC(code);
  PetscInt iterations = 0;
  BB_PETSC(TaoGetIterationNumber(tao_, &iterations));
  return finish_box_qp_solve(qp, y, gradient, start_, *scale, config_.rtol, iterations);
}

} // namespace bilevel
