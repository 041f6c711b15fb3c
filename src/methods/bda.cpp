#include "bilevel/methods/bda.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"
#include "bilevel/solvers/inner_step.hpp"

#include <algorithm>

namespace bilevel {

namespace {
/// Central-difference step (times 1/max(1, ||w||_inf)) for the upper-level Hessian products:
/// near the cube root of machine epsilon balances truncation and rounding.
constexpr double kDifferenceStep = 1e-5;
} // namespace

Bda::Config Bda::Config::from_options() {
  OptionSection section("algorithm bda");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner = InnerSteps::from_options("aggregated inner steps T");
  c.mu = options::get_real("-alg_bda_mu", 0.5, 0.0, 1.0,
                           "aggregation weight alpha_t = mu / (t + 1) of the upper level");
  c.warm_start = options::get_bool("-alg_warm_start", true,
                                   "start the inner steps from the last lower iterate");
  return c;
}

Bda::Bda(Config config) : HypergradientMethod(config.outer), config_(config) {}

void Bda::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  y_start_ = copy_of(y_);
  for (OwnedVec* v : {&w_, &tmp_y_, &hy_f_, &hy_g_, &gy_plus_, &gy_minus_, &y_shift_})
    *v = problem.create_y();
  for (OwnedVec* v : {&gx_acc_, &hx_f_, &hx_g_, &gx_plus_, &gx_minus_})
    *v = duplicate(x0);
  // g = 0 (hard_nonsmooth) or linear in y has no curvature to scale by: an error there.
  eta_ = resolve_inner_step(config_.inner.eta, problem, x0, y_, "bda", "-alg_inner_eta");
}

void Bda::descend(Vec x, Vec y, bool record) {
  LogScope scope(log_events().inner_solve);
  const ConstraintSet* set = problem().lower_set();
  const auto steps = static_cast<std::size_t>(config_.inner.count);
  while (record && ys_.size() < steps) {
    ys_.push_back(duplicate(y));
    us_.push_back(duplicate(y));
  }
  for (std::size_t t = 0; t < steps; ++t) {
    const double alpha = config_.mu / static_cast<double>(t + 1);
    if (record)
      BB_PETSC(VecCopy(y, ys_[t]));
    problem().upper_gradient(x, y, nullptr, hy_f_);
    problem().lower_gradient(x, y, nullptr, hy_g_);
    BB_PETSC(VecAXPBYPCZ(y, -eta_ * alpha, -eta_ * (1.0 - alpha), 1.0, hy_f_, hy_g_));
    if (record)
      BB_PETSC(VecCopy(y, us_[t]));
    if (set)
      set->project(y, y);
  }
}

void Bda::upper_hessian_products(Vec x, Vec y, Vec w, Vec out_x, Vec out_y) {
  PetscReal w_max = 0;
  BB_PETSC(VecNorm(w, NORM_INFINITY, &w_max)); // a max: the same on every rank layout
  const double h = kDifferenceStep / std::max(1.0, static_cast<double>(w_max));
  BB_PETSC(VecWAXPY(y_shift_, h, w, y));
  problem().upper_gradient(x, y_shift_, gx_plus_, gy_plus_);
  BB_PETSC(VecWAXPY(y_shift_, -h, w, y));
  problem().upper_gradient(x, y_shift_, gx_minus_, gy_minus_);
  // d/dh grad f(x, y + h w): its y part is grad^2_yy f w, its x part grad^2_xy f w.
  BB_PETSC(VecWAXPY(out_y, -1.0, gy_minus_, gy_plus_));
  BB_PETSC(VecScale(out_y, 1.0 / (2 * h)));
  BB_PETSC(VecWAXPY(out_x, -1.0, gx_minus_, gx_plus_));
  BB_PETSC(VecScale(out_x, 1.0 / (2 * h)));
}

void Bda::hypergradient(Vec x, Vec grad, Record&) {
  if (!config_.warm_start)
    BB_PETSC(VecCopy(y_start_, y_));
  descend(x, y_, true);
  const ConstraintSet* set = problem().lower_set();
  problem().upper_gradient(x, y_, gx_acc_, w_);
  for (int t = config_.inner.count - 1; t >= 0; --t) {
    const auto i = static_cast<std::size_t>(t);
    const double alpha = config_.mu / static_cast<double>(t + 1);
    if (set) { // through y_{t+1} = P_Y(u_t)
      set->project_jacobian(us_[i], w_, tmp_y_);
      BB_PETSC(VecCopy(tmp_y_, w_));
    }
    // through u_t = y_t - s (alpha grad_y f + (1 - alpha) grad_y g)
    upper_hessian_products(x, ys_[i], w_, hx_f_, hy_f_);
    problem().lower_hess_xy(x, ys_[i], w_, hx_g_);
    problem().lower_hess_yy(x, ys_[i], w_, hy_g_);
    BB_PETSC(VecAXPBYPCZ(gx_acc_, -eta_ * alpha, -eta_ * (1.0 - alpha), 1.0, hx_f_, hx_g_));
    BB_PETSC(VecAXPBYPCZ(w_, -eta_ * alpha, -eta_ * (1.0 - alpha), 1.0, hy_f_, hy_g_));
  }
  BB_PETSC(VecCopy(gx_acc_, grad));
}

void Bda::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(config_.warm_start ? y_.get() : y_start_.get(), y_trial));
  descend(x, y_trial, false);
}

} // namespace bilevel
