#include "bilevel/solvers/natural_map_iteration.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"

#include <cmath>
#include <limits>

namespace bilevel {

namespace {
/// Step lengths below this (relative to 1 + ||y||) are rounding noise: no contraction ratio.
constexpr double kRoundingFloor = 1e-13;
} // namespace

NaturalMapIteration::NaturalMapIteration(NaturalMap& map, Vec y_model)
    : map_(map), previous_(duplicate(y_model)), u_(duplicate(y_model)),
      change_(duplicate(y_model)) {}

NaturalMapIteration::Outcome NaturalMapIteration::run(Vec x, Vec y, int steps, History* history,
                                                      const StepHook& hook) {
  return iterate(x, y, steps, -1.0, history, hook);
}

NaturalMapIteration::Outcome NaturalMapIteration::run_until(Vec x, Vec y, double tolerance,
                                                            int max_steps) {
  return iterate(x, y, max_steps, tolerance, nullptr, {});
}

NaturalMapIteration::Outcome NaturalMapIteration::iterate(Vec x, Vec y, int steps, double tolerance,
                                                          History* history, const StepHook& hook) {
  if (history) {
    for (auto* list : {&history->y, &history->u})
      while (list->size() < static_cast<std::size_t>(steps))
        list->push_back(duplicate(y));
  }
  Outcome out{0, std::numeric_limits<double>::quiet_NaN(), 0.0, tolerance < 0};
  double log_ratio_sum = 0.0, previous_change = 0.0;
  int ratios = 0;
  for (int t = 0; t < steps; ++t) {
    throw_if_interrupted(PetscObjectComm(reinterpret_cast<PetscObject>(y)));
    Vec y_t = history ? history->y[static_cast<std::size_t>(t)].get() : previous_.get();
    Vec u_t = history ? history->u[static_cast<std::size_t>(t)].get() : u_.get();
    PetscReal change = 0, norm_y = 0;
    {
      LogScope scope(log_events().inner_solve);
      BB_PETSC(VecCopy(y, y_t));
      map_.step(x, y_t, u_t, y);
      BB_PETSC(VecWAXPY(change_, -1.0, y_t, y));
      // Both norms in one reduction.
      BB_PETSC(VecNormBegin(change_, NORM_2, &change));
      BB_PETSC(VecNormBegin(y, NORM_2, &norm_y));
      BB_PETSC(VecNormEnd(change_, NORM_2, &change));
      BB_PETSC(VecNormEnd(y, NORM_2, &norm_y));
    }
    if (hook)
      hook(y_t, u_t);
    const double floor = kRoundingFloor * (1.0 + norm_y);
    if (t > 0 && previous_change > floor && change > floor) {
      log_ratio_sum += std::log(change / previous_change);
      ++ratios;
    }
    previous_change = change;
    out.steps = t + 1;
    out.last_change = change;
    if (tolerance >= 0 && change <= tolerance * (1.0 + norm_y)) {
      out.converged = true;
      break;
    }
  }
  if (ratios > 0)
    out.contraction = std::exp(log_ratio_sum / ratios);
  return out;
}

} // namespace bilevel
