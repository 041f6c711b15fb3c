#pragma once
// Runs one experiment: K outer iterations of an algorithm on a problem, timed with PETSc log
// events, streamed to a RunFile (trace rows and checkpoints), stopped by the iteration count, a
// tolerance on the hypergradient norm, a wall-time budget, a non-finite metric or runaway growth
// (status "diverged") or SIGTERM/SIGINT (status "interrupted", the file flushed and valid;
// core/interrupt.hpp stops even a long inner solve within one inner step).
#include "bilevel/core/oracle_counts.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/run_status.hpp"
#include "bilevel/problems/run_spec.hpp"

#include <string>

namespace bilevel {

class Algorithm;
class Problem;
class RunFile;
class RunValidity;

struct DriverConfig {
  int outer_iters = 100;    ///< the run's budget K (RunSpec::outer_iters)
  double tolerance = 0.0;   ///< stop ("converged") when hypergrad_norm <= tolerance
  double time_budget = 0.0; ///< seconds of algorithm time; 0 = none
  int monitor_every = 0;    ///< a rank-0 progress line every N iterations; 0 = quiet
  int report_every = 1;     ///< problem metrics every N iterations (NaN in between)
  int objective_every = 1;  ///< upper_objective and lower_residual every N iterations

  /// Reads -tol, -time_budget, -monitor, -report_every, -objective_every; K is the run's.
  static DriverConfig from_options(const RunSpec& run);
};

struct RunOutcome {
  RunStatus status = RunStatus::completed;
  std::string validity; ///< RunValidity::verdict() at the end
  int iterations = 0;   ///< rows in the trace at the end (a resumed run counts all)
  double seconds = 0.0;
  double final_upper_objective = 0.0;
  double final_hypergrad_norm = 0.0;
  double first_hypergrad_norm = 0.0; ///< the trace's first row (of the whole run, if resumed)
};

/// Where a run starts: a new run at row 0; a resumed one continues a stored trace.
struct RunStart {
  /// The run's first x, at which the algorithm was set up; every checkpoint keeps it
  /// (/state/x_start) so that a restart sets the algorithm up as the first start did.
  Vec x_start = nullptr;
  int first_iteration = 0;
  double time_offset = 0.0;
  /// The oracle calls counted up to the stored trace's last row, where a resumed run's
  /// cumulative calls_* columns continue.
  OracleCounts oracle_counts;
};

/// Runs the loop. `x` holds the starting point (set by the caller: initial or restarted) and
/// ends holding the final iterate. Every row gets `inner_ok` (0 when an inner solve of the
/// step missed its tolerance, Record::solve), counted in `validity`, and the cumulative oracle
/// calls of the steps (problem.oracle_counts() plus the inner solves the steps reported), which
/// the setup and the reporting leave unchanged.
RunOutcome run_experiment(Problem& problem, Algorithm& algorithm, Vec x, RunFile& file,
                          const DriverConfig& config, RunValidity& validity, const RunStart& start);

} // namespace bilevel
