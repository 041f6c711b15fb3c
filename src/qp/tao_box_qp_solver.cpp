#include "bilevel/qp/tao_box_qp_solver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/principal_submatrix.hpp"

#include <cmath>

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
  if (crossed_bounds(qp) > 0)
    return {BoxQpStatus::kInfeasibleBounds, 0, 0.0};
  BB_PETSC(VecMedian(qp.lower, y, qp.upper, y));
  BB_PETSC(VecCopy(y, start_));
  PetscReal q_norm = 0;
  BB_PETSC(VecNorm(qp.q, NORM_2, &q_norm));
  const double scale = std::max(q_norm, 1e-300);
  qp_ = &qp;
  BB_PETSC(TaoSetSolution(tao_, y));
  BB_PETSC(TaoSetVariableBounds(tao_, qp.lower, qp.upper));
  BB_PETSC(TaoSetObjectiveAndGradient(tao_, work_, objective_and_gradient, this));
  BB_PETSC(TaoSetHessian(tao_, qp.H, qp.H, hessian, this));
  BB_PETSC(TaoSetTolerances(tao_, config_.rtol * scale, 0.0, 0.0));
  PetscErrorCode code = 0;
  {
    // TRON (and the other active-set types) extract H's free-set block every iteration.
    const PrincipalSubmatrixScope one_pass_extraction(qp.H);
    code = TaoSolve(tao_);
  }
  qp_ = nullptr;
  BB_PETSC(code);
  BoxQpResult result{BoxQpStatus::kNotConverged, 0, 0.0};
  BB_PETSC(TaoGetIterationNumber(tao_, &result.iterations));
  PetscReal y_norm = 0;
  BB_PETSC(VecNorm(y, NORM_2, &y_norm));
  if (!std::isfinite(y_norm)) {
    BB_PETSC(VecCopy(start_, y));
    result.status = BoxQpStatus::kNumericalError;
  }
  box_qp_gradient(qp, y, gradient);
  result.projected_gradient = projected_gradient_norm(qp, y, gradient) / scale;
  if (result.status != BoxQpStatus::kNumericalError && result.projected_gradient <= config_.rtol)
    result.status = BoxQpStatus::kConverged;
  return result;
}

} // namespace bilevel
