#include "bilevel/methods/itd.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/inner_step.hpp"

namespace bilevel {

Itd::Config Itd::Config::from_options() {
  OptionSection section("algorithm itd");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner = InnerSteps::from_options("unrolled inner steps T");
  c.warm_start = options::get_bool("-alg_warm_start", true,
                                   "start the unrolled steps from the last lower iterate");
  return c;
}

Itd::Itd(Config config) : HypergradientMethod(config.outer), config_(config) {}

void Itd::setup(Problem& problem, Vec x0) {
  if (problem.lower_set())
    throw InputError("algorithm itd differentiates unconstrained gradient steps; problem '" +
                     problem.name() + "' has a constrained lower level (use itd_vi)");
  HypergradientMethod::setup(problem, x0);
  inner_ = std::make_unique<LowerGradientDescent>(y_);
  y_start_ = copy_of(y_);
  w_ = problem.create_y();
  hw_ = problem.create_y();
  gx_acc_ = duplicate(x0);
  gx_tmp_ = duplicate(x0);
  eta_ = resolve_inner_step(config_.inner.eta, problem, x0, y_, "itd", "-alg_inner_eta");
  // The reverse sweep's Hessian products are at the forward steps' iterates.
  problem.expect_lower_trajectory(config_.inner.count);
}

void Itd::hypergradient(Vec x, Vec grad, Record&) {
  if (!config_.warm_start)
    BB_PETSC(VecCopy(y_start_, y_));
  inner_->run(problem(), x, y_, config_.inner.count, eta_, &history_);
  // Reverse sweep through y_{t+1} = y_t - eta grad_y g(x, y_t).
  problem().upper_gradient(x, y_, gx_acc_, w_);
  for (int t = config_.inner.count - 1; t >= 0; --t) {
    Vec yt = history_[static_cast<std::size_t>(t)];
    problem().lower_hess_xy(x, yt, w_, gx_tmp_);
    BB_PETSC(VecAXPY(gx_acc_, -eta_, gx_tmp_));
    problem().lower_hess_yy(x, yt, w_, hw_);
    BB_PETSC(VecAXPY(w_, -eta_, hw_));
  }
  BB_PETSC(VecCopy(gx_acc_, grad));
}

void Itd::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(config_.warm_start ? y_.get() : y_start_.get(), y_trial));
  inner_->run(problem(), x, y_trial, config_.inner.count, eta_);
}

} // namespace bilevel
