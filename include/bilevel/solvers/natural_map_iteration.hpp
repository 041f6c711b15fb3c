#pragma once
// The inner loop of ITD-VI and the tight lower solve of kkt_vi: repeated natural-map steps
// y_{t+1} = z_b(y_t, x) (docs/algorithms.md §3.4, paper eq. 8 / Algorithm 1 step 3). Only the steps
// are timed in the BBInnerSolve event (forward-mode Jacobian updates run in the hook, outside it).
// Measures the contraction ||y_{t+1} - y_t|| / ||y_t - y_{t-1}|| that Lemma 12 bounds by q.
#include "bilevel/solvers/natural_map.hpp"

#include <functional>
#include <vector>

namespace bilevel {

class NaturalMapIteration {
public:
  struct Outcome {
    int steps;
    /// Geometric mean of the measured step ratios (NaN when the steps were all at rounding level).
    double contraction;
    double last_change; ///< ||y_T - y_{T-1}||
    bool converged;     ///< run_until met its tolerance (run: always true, it has none)
  };
  /// y_t and u_t = y_t - F(y_t, x)/b of every step, for the reverse sweep (memory O(T ny)).
  struct History {
    std::vector<OwnedVec> y, u;
  };
  /// Called after step t with (y_t, u_t); y has already moved on to y_{t+1}.
  using StepHook = std::function<void(Vec y_t, Vec u_t)>;

  NaturalMapIteration(NaturalMap& map, Vec y_model);

  /// `steps` steps from y, in place.
  Outcome run(Vec x, Vec y, int steps, History* history = nullptr, const StepHook& hook = {});
  /// Steps until ||y_{t+1} - y_t|| <= tolerance (1 + ||y_{t+1}||) or `max_steps`.
  Outcome run_until(Vec x, Vec y, double tolerance, int max_steps);

private:
  Outcome iterate(Vec x, Vec y, int steps, double tolerance, History* history,
                  const StepHook& hook);

  NaturalMap& map_;
  OwnedVec previous_, u_, change_;
};

} // namespace bilevel
