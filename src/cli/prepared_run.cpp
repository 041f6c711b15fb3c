#include "bilevel/cli/prepared_run.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel::cli {

PreparedRun read_run(MPI_Comm comm, bool validate_by_default) {
  const RunSpec spec = RunSpec::from_options(comm);
  PreparedRun run{DriverConfig::from_options(spec),
                  HypergradientValidation::Settings::from_options(validate_by_default),
                  make_experiment(spec, true),
                  RunValidity{},
                  OwnedVec{},
                  RunStart{}};
  if (!run.experiment.invalid_reason.empty())
    run.validity.invalidate(run.experiment.invalid_reason);
  return run;
}

void set_up(PreparedRun& run, const StoredRun* stored) {
  Experiment& e = run.experiment;
  run.x_start = copy_of(e.x);
  e.algorithm->setup(*e.problem, e.x);
  run.start.x_start = run.x_start;
  if (stored) {
    run.validity.resume_from(stored->validity());
    run.start = stored->resume(*e.algorithm, e.x, run.x_start);
    run.resumed = true;
  }
  prepare_validation(e, run.validation);
  // Everything is read: an option nobody used is a typo, reported before any file is written.
  options::reject_unused();
}

RunDescription describe(const Experiment& experiment, const std::string& options) {
  return {experiment.problem_name, experiment.algorithm_name, options, experiment.run.seed};
}

ExecutedRun execute(PreparedRun& run, hid_t file, const std::string& group,
                    const std::string& options, double flush_interval) {
  Experiment& e = run.experiment;
  RunFile run_file(e.run.comm, file, group, describe(e, options), run.resumed, flush_interval);
  ExecutedRun executed;
  RunOutcome& outcome = executed.outcome;
  outcome =
      run_experiment(*e.problem, *e.algorithm, e.x, run_file, run.config, run.validity, run.start);
  if (e.validator && ran_to_end(outcome.status)) {
    executed.validation =
        validate_at_end(e, run_file.group(), run.validity, nullptr, outcome.first_hypergrad_norm);
    outcome.validity = run.validity.verdict();
  }
  run_file.finish(outcome.status, outcome.validity);
  return executed;
}

} // namespace bilevel::cli
