#include "bilevel/qp/active_set_box_qp_solver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"

namespace bilevel {

namespace {
// The forcing term: early steps, whose bound set is still wrong, need not be solved exactly.
constexpr double kDefaultForcing = 1e-2;
} // namespace

ActiveSetBoxQpSolver::Config ActiveSetBoxQpSolver::Config::from_options(const std::string& prefix) {
  Config c;
  const std::string p = "-" + prefix;
  c.rtol = options::get_positive(p + "rtol", c.rtol,
                                 "stop the lower QP at ||P(y - g) - y|| <= rtol ||q|| (2-norms)");
  c.max_iterations = options::get_int(p + "max_it", c.max_iterations, 1, 100000000,
                                      "active-set step limit of the lower QP");
  OperatorSolver::declare_options(prefix, KSPCG, kDefaultForcing);
  return c;
}

ActiveSetBoxQpSolver::ActiveSetBoxQpSolver(MPI_Comm comm, Vec y_model, const std::string& prefix,
                                           const Config& config)
    : config_(config), start_(duplicate(y_model)), diagonal_(duplicate(y_model)),
      bound_rows_(duplicate(y_model)), residual_(duplicate(y_model)), step_(duplicate(y_model)),
      krylov_(comm, y_model, prefix, KSPCG, kDefaultForcing) {}

void ActiveSetBoxQpSolver::predict_bound_rows(const BoxQp& qp, Vec y, Vec gradient) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(y, &n));
  PetscScalar *py = nullptr, *bound = nullptr;
  const PetscScalar *pg = nullptr, *pd = nullptr, *lo = nullptr, *hi = nullptr;
  BB_PETSC(VecGetArray(y, &py));
  BB_PETSC(VecGetArray(bound_rows_, &bound));
  BB_PETSC(VecGetArrayRead(gradient, &pg));
  BB_PETSC(VecGetArrayRead(diagonal_, &pd));
  BB_PETSC(VecGetArrayRead(qp.lower, &lo));
  BB_PETSC(VecGetArrayRead(qp.upper, &hi));
  for (PetscInt i = 0; i < n; ++i) {
    const double newton = py[i] - pg[i] / pd[i]; // the coordinate's own Newton step
    bound[i] = newton <= lo[i] || newton >= hi[i] ? 1.0 : 0.0;
    if (newton <= lo[i])
      py[i] = lo[i];
    else if (newton >= hi[i])
      py[i] = hi[i];
  }
  BB_PETSC(VecRestoreArrayRead(qp.upper, &hi));
  BB_PETSC(VecRestoreArrayRead(qp.lower, &lo));
  BB_PETSC(VecRestoreArrayRead(diagonal_, &pd));
  BB_PETSC(VecRestoreArrayRead(gradient, &pg));
  BB_PETSC(VecRestoreArray(bound_rows_, &bound));
  BB_PETSC(VecRestoreArray(y, &py));
}

void ActiveSetBoxQpSolver::apply_free_rows(Mat H, Vec in, Vec out) const {
  BB_PETSC(MatMult(H, in, out));
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(in, &n));
  PetscScalar* po = nullptr;
  const PetscScalar *pi = nullptr, *bound = nullptr;
  BB_PETSC(VecGetArray(out, &po));
  BB_PETSC(VecGetArrayRead(in, &pi));
  BB_PETSC(VecGetArrayRead(bound_rows_, &bound));
  for (PetscInt i = 0; i < n; ++i)
    if (bound[i] != 0)
      po[i] = pi[i];
  BB_PETSC(VecRestoreArrayRead(bound_rows_, &bound));
  BB_PETSC(VecRestoreArrayRead(in, &pi));
  BB_PETSC(VecRestoreArray(out, &po));
}

BoxQpResult ActiveSetBoxQpSolver::solve(const BoxQp& qp, Vec y, Vec gradient) {
  const std::optional<double> scale = begin_box_qp_solve(qp, y, start_);
  if (!scale)
    return {BoxQpStatus::kInfeasibleBounds, 0, 0.0};
  const double target = config_.rtol * *scale;
  BB_PETSC(MatGetDiagonal(qp.H, diagonal_));
  // CG's own residual is the free rows' gradient after the step: half the QP's target leaves
  // the other half to the bound rows' multipliers.
  krylov_.set_absolute_tolerance(0.5 * target);
  const OperatorSolver::Apply free_rows_operator = [&](Vec in, Vec out) {
    apply_free_rows(qp.H, in, out);
  };
  PetscInt steps = 0;
  box_qp_gradient(qp, y, gradient);
  while (projected_gradient_norm(qp, y, gradient) > target && steps < config_.max_iterations) {
    predict_bound_rows(qp, y, gradient);
    box_qp_gradient(qp, y, gradient);
    // The step's right-hand side: -(H y - q) on the free rows, 0 on the bound rows.
    BB_PETSC(VecPointwiseMult(residual_, gradient, bound_rows_));
    BB_PETSC(VecAXPY(residual_, -1.0, gradient));
    BB_PETSC(VecSet(step_, 0.0));
    // A CG stopped at its iteration limit only makes this step inexact: whether the QP is
    // solved is decided by the stationarity test, on the iterate itself.
    (void)krylov_.solve(free_rows_operator, residual_, step_);
    BB_PETSC(VecAXPY(y, 1.0, step_));
    box_qp_gradient(qp, y, gradient);
    ++steps;
  }
  // The iterate can leave the box between steps (a free row's CG step is not clipped):
  // finish_box_qp_solve projects it.
  return finish_box_qp_solve(qp, y, gradient, start_, *scale, config_.rtol, steps);
}

} // namespace bilevel
