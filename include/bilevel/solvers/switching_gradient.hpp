#pragma once
// SGM, the switching gradient method of the IGFM paper (docs/algorithms.md §5.2, the paper's
// Algorithm 1): an estimate of the optimistic hyper-objective phi(x) = min_{y in Y*(x)} f(x, y)
// when g(x, .) is convex but not strongly convex. K0 projected (sub)gradient steps on g(x, .)
// estimate g*(x) by g_hat* = g(x, y_hat_{K0}); then K steps from y0 switch between f (when the
// lower level is 2 theta-optimal, the iterate is recorded) and g; y_out averages the recorded
// iterates and phi_tilde = f(x, y_out). Works on any Problem through its Vec oracles, so it runs on
// whatever communicator the problem lives on (IGFM's rank groups each own one).
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

class Problem;

class SwitchingGradient {
public:
  struct Config {
    int k0;       ///< K0: steps on g giving g_hat*
    int k;        ///< K: switching steps
    double tau;   ///< step size of both phases (> 0; the option's 0 = 1/L is resolved by callers)
    double theta; ///< switching threshold: an f-step when g - g_hat* <= 2 theta
    static Config from_options();
  };
  struct Result {
    double phi_tilde;  ///< f(x, y_out)
    double lower_gap;  ///< g(x, y_out) - g_hat*
    double g_hat_star; ///< g(x, y_hat_{K0})
    int f_steps;       ///< |I|, the recorded iterates
    int g_steps;       ///< K - |I|
    /// The K0 steps on g did what a descent phase must: g(x, y_hat_{K0}) is finite and not above
    /// g(x, y0). False means tau is too large for g (the phase diverged), so g_hat* and every
    /// switching decision after it are meaningless.
    bool lower_descended;
  };

  /// Work vectors are laid out like `y_model`.
  SwitchingGradient(Config config, Vec y_model);

  /// Runs SGM at x from y0 = `y` and leaves y_out in `y`. Deterministic and free of
  /// reductions whose order depends on the rank count (only elementwise Vec operations and
  /// the problem's oracles), so every layout gives the same y_out.
  Result run(Problem& problem, Vec x, Vec y);

  const Config& config() const { return config_; }

private:
  /// y <- P_Y(y - tau grad), grad = grad_y g if `on_lower` else grad_y f.
  void projected_step(Problem& problem, Vec x, Vec y, bool on_lower);

  Config config_;
  OwnedVec y_hat_, sum_, grad_;
};

} // namespace bilevel
