#include "bilevel/algorithms/aid.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

namespace {
constexpr double kDefaultOuterStep = 0.1;
}

Aid::Config Aid::Config::from_options() {
  OptionSection section("algorithm aid");
  Config c{};
  c.inner_steps = static_cast<int>(options::get_int("-alg_inner_iters", 10, 0, 1000000,
                                                    "inner gradient steps T per outer step"));
  c.inner_eta = options::get_real("-alg_inner_eta", 0.0, 0.0, 1e12,
                                  "inner step size; 0 = 1/L from the problem's estimate");
  return c;
}

void Aid::declare_options() {
  (void)OuterStepConfig::from_options(kDefaultOuterStep);
  (void)Config::from_options();
  OptionSection section("algorithm aid");
  (void)options::get_string("-alg_ksp_type", "cg", "Krylov method for the Hessian system");
  (void)options::get_string("-alg_pc_type", "none", "preconditioner");
  (void)options::get_real("-alg_ksp_rtol", 1e-10, 0.0, 1.0, "relative tolerance of the solve");
  (void)options::get_int("-alg_ksp_max_it", 1000, 1, 100000000, "Krylov iteration limit");
}

Aid::Aid(Config config) : HypergradientMethod(kDefaultOuterStep), config_(config) {}

PetscErrorCode Aid::hessian_mult(Mat shell, Vec v, Vec out) {
  PetscFunctionBeginUser;
  Aid* self = nullptr;
  PetscCall(MatShellGetContext(shell, &self));
  // An exception must not cross PETSc's C frames: report it as a PETSc error instead.
  try {
    self->problem().lower_hess_yy(self->x_current_, self->y_, v, out);
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "%s", e.what());
  }
  PetscFunctionReturn(0);
}

void Aid::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  inner_ = std::make_unique<LowerGradientDescent>(y_);
  v_ = problem.create_y();
  BB_PETSC(VecSet(v_, 0.0));
  rhs_ = problem.create_y();
  gx_ = duplicate(x0);
  x_current_ = copy_of(x0);
  eta_ =
      config_.inner_eta > 0 ? config_.inner_eta : 1.0 / problem.lower_curvature(x0, y_).lipschitz;

  PetscInt local = 0, global = 0;
  BB_PETSC(VecGetLocalSize(y_, &local));
  BB_PETSC(VecGetSize(y_, &global));
  BB_PETSC(MatCreateShell(problem.comm(), local, local, global, global, this, hessian_.receive()));
  BB_PETSC(
      MatShellSetOperation(hessian_, MATOP_MULT, reinterpret_cast<void (*)(void)>(hessian_mult)));
  BB_PETSC(MatSetOption(hessian_, MAT_SYMMETRIC, PETSC_TRUE));
  BB_PETSC(KSPCreate(problem.comm(), ksp_.receive()));
  BB_PETSC(KSPSetOptionsPrefix(ksp_, "alg_"));
  BB_PETSC(KSPSetOperators(ksp_, hessian_, hessian_));
  BB_PETSC(KSPSetType(ksp_, KSPCG));
  PC pc = nullptr;
  BB_PETSC(KSPGetPC(ksp_, &pc));
  BB_PETSC(PCSetType(pc, PCNONE));
  BB_PETSC(KSPSetTolerances(ksp_, 1e-10, 1e-50, PETSC_DEFAULT, 1000));
  BB_PETSC(KSPSetInitialGuessNonzero(ksp_, PETSC_TRUE)); // warm start v across outer steps
  BB_PETSC(KSPSetFromOptions(ksp_));
}

void Aid::hypergradient(Vec x, Vec grad, Record& record) {
  BB_PETSC(VecCopy(x, x_current_));
  inner_->run(problem(), x, y_, config_.inner_steps, eta_);
  problem().upper_gradient(x, y_, gx_, rhs_);
  {
    LogScope scope(log_events().linear_solve);
    BB_PETSC(KSPSolve(ksp_, rhs_, v_));
  }
  KSPConvergedReason reason;
  PetscInt iterations = 0;
  BB_PETSC(KSPGetConvergedReason(ksp_, &reason));
  BB_PETSC(KSPGetIterationNumber(ksp_, &iterations));
  record.set("ksp_iterations", static_cast<double>(iterations));
  record.set("ksp_converged", reason > 0 ? 1.0 : 0.0);
  problem().lower_hess_xy(x, y_, v_, grad);
  BB_PETSC(VecAYPX(grad, -1.0, gx_)); // grad = grad_x f - grad^2_xy g v
}

void Aid::save_state(hid_t group) const {
  HypergradientMethod::save_state(group);
  h5::write_vec(group, "v", v_);
}

void Aid::load_state(hid_t group) {
  HypergradientMethod::load_state(group);
  h5::read_vec(group, "v", v_);
}

void Aid::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(y_, y_trial));
  inner_->run(problem(), x, y_trial, config_.inner_steps, eta_);
}

} // namespace bilevel
