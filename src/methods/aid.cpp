#include "bilevel/methods/aid.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/inner_step.hpp"

namespace bilevel {

Aid::Config Aid::Config::from_options() {
  OptionSection section("algorithm aid");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner = InnerSteps::from_options("inner gradient steps T per outer step");
  HessianSolver::declare_options(); // read by the solver's KSP at setup
  return c;
}

Aid::Aid(Config config) : HypergradientMethod(config.outer), config_(config) {}

void Aid::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  inner_ = std::make_unique<LowerGradientDescent>(y_);
  v_ = problem.create_y();
  BB_PETSC(VecSet(v_, 0.0));
  rhs_ = problem.create_y();
  gx_ = duplicate(x0);
  eta_ = resolve_inner_step(config_.inner.eta, problem, x0, y_, "aid", "-alg_inner_eta");
  solver_ = std::make_unique<HessianSolver>(problem, y_);
}

void Aid::hypergradient(Vec x, Vec grad, Record& record) {
  inner_->run(problem(), x, y_, config_.inner.count, eta_);
  problem().upper_gradient(x, y_, gx_, rhs_);
  HessianSolver::Outcome solve{};
  {
    LogScope scope(log_events().linear_solve);
    solve = solver_->solve(x, y_, rhs_, v_);
  }
  record.solve("ksp", solve.converged, static_cast<double>(solve.iterations));
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
  inner_->run(problem(), x, y_trial, config_.inner.count, eta_);
}

} // namespace bilevel
