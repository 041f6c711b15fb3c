#include "bilevel/solvers/switching_gradient.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <cmath>
#include <stdexcept>

namespace bilevel {

SwitchingGradient::Config SwitchingGradient::Config::from_options() {
  Config c{};
  c.k0 = static_cast<int>(
      options::get_int("-alg_sgm_k0", 200, 0, 100000000, "SGM: K0 steps on g giving g_hat*"));
  c.k =
      static_cast<int>(options::get_int("-alg_sgm_k", 400, 1, 100000000, "SGM: K switching steps"));
  c.tau = options::get_real("-alg_sgm_tau", 0.05, 0.0, 1e12,
                            "SGM: step size tau of both phases; 0 = 1/L of g at (x0, y0)");
  c.theta =
      options::get_positive("-alg_sgm_theta", 1e-3, "SGM: f-step when g(x, y) - g_hat* <= 2 theta");
  return c;
}

SwitchingGradient::SwitchingGradient(Config config, Vec y_model)
    : config_(config), y_hat_(duplicate(y_model)), sum_(duplicate(y_model)),
      grad_(duplicate(y_model)) {
  if (!(config_.tau > 0.0))
    throw std::invalid_argument("SwitchingGradient: tau must be positive (resolve tau = 0 to 1/L "
                                "before constructing)");
}

void SwitchingGradient::projected_step(Problem& problem, Vec x, Vec y, bool on_lower) {
  throw_if_interrupted(problem.comm());
  if (on_lower)
    problem.lower_gradient(x, y, nullptr, grad_);
  else
    problem.upper_gradient(x, y, nullptr, grad_);
  BB_PETSC(VecAXPY(y, -config_.tau, grad_));
  if (const ConstraintSet* set = problem.lower_set())
    set->project(y, y);
}

SwitchingGradient::Result SwitchingGradient::run(Problem& problem, Vec x, Vec y) {
  LogScope scope(log_events().inner_solve);
  Result r{};
  // Lines 1-5 of Algorithm 1: y_hat_0 = y0, K0 projected steps on g.
  BB_PETSC(VecCopy(y, y_hat_));
  const double g_start = problem.lower_value(x, y_hat_);
  for (int k = 0; k < config_.k0; ++k)
    projected_step(problem, x, y_hat_, true);
  r.g_hat_star = problem.lower_value(x, y_hat_);
  r.lower_descended = std::isfinite(r.g_hat_star) && r.g_hat_star <= g_start;
  // Lines 6-12: the switching phase restarts from y0, as printed (not from y_hat_{K0}).
  BB_PETSC(VecSet(sum_, 0.0));
  for (int k = 0; k < config_.k; ++k) {
    const bool near_optimal = problem.lower_value(x, y) - r.g_hat_star <= 2 * config_.theta;
    if (near_optimal) {
      BB_PETSC(VecAXPY(sum_, 1.0, y)); // record y_k (the point before the f-step)
      ++r.f_steps;
    } else {
      ++r.g_steps;
    }
    projected_step(problem, x, y, !near_optimal);
  }
  // Line 13. The paper leaves I empty undefined; then no iterate was 2 theta-optimal and the
  // best lower-level point we have is y_hat_{K0}.
  if (r.f_steps > 0) {
    BB_PETSC(VecCopy(sum_, y));
    BB_PETSC(VecScale(y, 1.0 / r.f_steps));
  } else {
    BB_PETSC(VecCopy(y_hat_, y));
  }
  r.phi_tilde = problem.upper_value(x, y);
  r.lower_gap = problem.lower_value(x, y) - r.g_hat_star;
  return r;
}

} // namespace bilevel
