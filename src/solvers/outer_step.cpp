#include "bilevel/solvers/outer_step.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <cmath>

namespace bilevel {

OuterStepConfig OuterStepConfig::from_options(double default_step) {
  OptionSection section("outer step (all hypergradient methods)");
  OuterStepConfig c;
  c.step = options::get_positive("-alg_step", default_step, "outer step size beta");
  c.backtracking = options::get_choice("-alg_line_search", "fixed", {"fixed", "backtracking"},
                                       "outer step rule") == "backtracking";
  return c;
}

OuterStep::OuterStep(OuterStepConfig config, Vec x_model)
    : config_(config), current_step_(config.step), trial_(duplicate(x_model)) {}

void OuterStep::apply(Vec x, Vec grad, const ConstraintSet* set,
                      const std::function<double(Vec)>& phi, Record& record) {
  LogScope scope(log_events().outer_step);
  auto take = [&](double beta, Vec out) {
    if (out == x)
      BB_PETSC(VecAXPY(out, -beta, grad));
    else
      BB_PETSC(VecWAXPY(out, -beta, grad, x));
    if (set)
      set->project(out, out);
  };
  if (!config_.backtracking) {
    take(config_.step, x);
    record.set("step_size", config_.step);
    return;
  }
  // Armijo on the projected step: Phi(x+) <= Phi(x) + sigma <grad, x+ - x>. Start from twice the
  // last accepted step (capped at the configured one) so the step can recover after shrinking.
  const double phi0 = phi(x);
  double beta = std::min(2.0 * current_step_, config_.step);
  int backtracks = 0;
  for (;; ++backtracks) {
    take(beta, trial_);
    BB_PETSC(VecAXPY(trial_, -1.0, x)); // trial = x+ - x
    PetscScalar decrease = 0;
    BB_PETSC(VecDot(grad, trial_, &decrease));
    BB_PETSC(VecAXPY(trial_, 1.0, x));
    const double value = phi(trial_);
    if ((std::isfinite(value) && value <= phi0 + config_.armijo * decrease) ||
        backtracks == config_.max_backtracks)
      break;
    beta *= 0.5;
  }
  BB_PETSC(VecCopy(trial_, x));
  current_step_ = beta;
  record.set("step_size", beta);
  record.set("backtracks", backtracks);
}

} // namespace bilevel
