#pragma once
// An algorithm holds its state and performs one outer iteration per step(), recording its own
// metrics; it talks to the problem only through the Problem interface (ensmallen's shape: a
// small class, the problem offers values and derivatives).
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"

#include <hdf5.h>

#include <string>
#include <vector>

namespace bilevel {

class Problem;

class Algorithm {
public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;

  /// Binds the problem and allocates state; x0 is the starting upper iterate.
  virtual void setup(Problem& problem, Vec x0) = 0;
  /// One outer iteration: updates x in place and records metrics, `hypergrad_norm` among them.
  virtual void step(Vec x, Record& record) = 0;
  /// The current lower iterate (for reporting the objective and residual).
  virtual Vec lower_iterate() const = 0;
  /// Metrics that are for analysis only (e.g. a true hypergradient norm needing an extra solve):
  /// the driver calls this after the timed step(), inside the report event, so their cost never
  /// counts as the method's time. Default: nothing.
  virtual void report(Vec x, Record& record);

  /// One hypergradient estimate at x, with the inner solve it needs, from the current state; only
  /// HypergradientMethods have one (the catalog's Requirements::hypergradient_oracle says which).
  virtual void hypergradient(Vec x, Vec grad, Record& record);

  /// The vectors a step changes besides x: the lower iterate (the default) and any warm start
  /// (a Krylov solve's initial guess). The driver restores them when a step is interrupted, so
  /// the saved state is that of the last completed iteration and a restart continues exactly.
  virtual std::vector<Vec> step_state() const { return {lower_iterate()}; }

  /// Saves and restores the inner state a restart needs (the lower iterate by default).
  virtual void save_state(hid_t group) const;
  /// Why save_state does not write all a restart needs, or "" when it does. The driver records
  /// /state@restartable (0 or 1) and the reason (/state@not_restartable), so that -restart_from
  /// refuses the file before any set-up and a campaign reruns it instead of resuming it.
  virtual std::string why_not_restartable() const { return ""; }
  virtual void load_state(hid_t group);
};

} // namespace bilevel
