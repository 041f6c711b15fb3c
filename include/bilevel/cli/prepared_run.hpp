#pragma once
// One run as the run mode and every line of a suite execute it, through the same three calls:
// read_run (its options, the problem and algorithm built), set_up (the algorithm set up at the
// starting x, a stored run resumed, -validate's check built, unused options refused), execute
// (the driver's loop into a RunFile, -validate at the end, the file finished). The run mode
// writes the file's root group, a suite one group per run.
#include "bilevel/cli/experiment.hpp"
#include "bilevel/driver/driver.hpp"
#include "bilevel/driver/run_file.hpp"
#include "bilevel/driver/run_validity.hpp"

#include <string>

namespace bilevel::cli {

struct PreparedRun {
  DriverConfig config;
  HypergradientValidation::Settings validation;
  Experiment experiment;
  /// What is known before the run: the pair's weaker convexity, a resumed run's stored verdict.
  RunValidity validity;
  OwnedVec x_start; ///< the x the algorithm was set up at (set_up)
  RunStart start;   ///< row 0, or where a resumed trace continues
  bool resumed = false;
};

/// Reads the run control (-tol, ...) and -validate settings (-validate on by default when
/// `validate_by_default`, as in a suite) and builds the experiment at its starting x, not yet set
/// up; the caller may replace the x (-x_from, a stored run's StoredRun::read_x_start).
PreparedRun read_run(MPI_Comm comm, bool validate_by_default);

/// Sets the algorithm up at the experiment's x (kept as x_start), resumes `stored` if given (its
/// state, x and trace position, its verdict), builds -validate's check, and refuses options
/// nobody read: after this, nothing of the run can be a user's mistake.
void set_up(PreparedRun& run, const StoredRun* stored);

struct ExecutedRun {
  RunOutcome outcome;
  std::string validation; ///< -validate's one-line summary; empty without a check
};

/// Runs the prepared run into `group` of `file` (described by `options`, the run's options
/// string; flushed every `flush_interval` seconds), validates its end, finishes the group.
ExecutedRun execute(PreparedRun& run, hid_t file, const std::string& group,
                    const std::string& options, double flush_interval);

/// The attributes that name a run in its file.
RunDescription describe(const Experiment& experiment, const std::string& options);

} // namespace bilevel::cli
