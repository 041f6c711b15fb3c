#include "bilevel/driver/driver.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/oracle_counts.hpp"
#include "bilevel/driver/run_file.hpp"
#include "bilevel/driver/run_validity.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"

#include <petsctime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

namespace bilevel {

namespace {

/// Why the row says the run diverged, or "" if it does not: a NaN/Inf in the contract's metrics
/// (the driver's own NaN fill of hypergrad_norm, for an algorithm or problem without one, means
/// "not available" and does not count), an infinite value in any other metric, or growth of the
/// objective or of an iterate past kGrowthLimit times its size at the first iteration.
constexpr double kGrowthLimit = 1e8;

struct GrowthReference {
  double objective, x_norm, y_norm;
};

/// `objective_evaluated`: whether this row carries upper_objective and lower_residual (every
/// -objective_every rows; NaN in between is not a divergence).
std::string divergence(const Record& r, bool algorithm_set_hypergrad, bool objective_evaluated,
                       const GrowthReference& start, double x_norm, double y_norm) {
  for (const char* name : {"upper_objective", "hypergrad_norm", "lower_residual"}) {
    const bool counted =
        std::string_view(name) == "hypergrad_norm" ? algorithm_set_hypergrad : objective_evaluated;
    if (counted && r.has(name) && !std::isfinite(r.get(name)))
      return std::string(name) + " is not finite";
  }
  for (const auto& [name, value] : r.entries())
    if (std::isinf(value))
      return name + " is infinite";
  const auto grew = [](double value, double reference) {
    return !(std::fabs(value) <= kGrowthLimit * std::max(1.0, std::fabs(reference)));
  };
  if (objective_evaluated && grew(r.get("upper_objective"), start.objective))
    return "upper_objective grew past 1e8 times its start";
  if (grew(x_norm, start.x_norm))
    return "||x|| grew past 1e8 times its start";
  if (grew(y_norm, start.y_norm))
    return "||y|| grew past 1e8 times its start";
  return "";
}

double norm(Vec v) {
  PetscReal value = 0;
  BB_PETSC(VecNorm(v, NORM_2, &value));
  return value;
}

/// Seconds this rank has spent so far in the timed steps' inner solves and hypergradients.
struct PhaseTimes {
  double inner, hypergradient;
};
PhaseTimes phase_times() {
  const LogEvents& events = log_events();
  PetscEventPerfInfo inner{}, hypergradient{};
  BB_PETSC(PetscLogEventGetPerfInfo(events.iterations, events.inner_solve, &inner));
  BB_PETSC(PetscLogEventGetPerfInfo(events.iterations, events.hypergradient, &hypergradient));
  return {inner.time, hypergradient.time};
}

} // namespace

DriverConfig DriverConfig::from_options(const RunSpec& run) {
  OptionSection section("run control");
  DriverConfig c;
  c.outer_iters = run.outer_iters;
  c.tolerance = options::get_real("-tol", 0.0, 0.0, 1e300,
                                  "stop (converged) when hypergrad_norm <= tol; 0 = never");
  c.time_budget = options::get_real("-time_budget", 0.0, 0.0, 1e12,
                                    "stop after this many seconds of algorithm time; 0 = none");
  c.monitor_every = static_cast<int>(options::get_int(
      "-monitor", 0, 0, 1000000000, "progress line every N iterations; 0 = quiet"));
  c.report_every =
      static_cast<int>(options::get_int("-report_every", 1, 1, 1000000000,
                                        "reporting-only metrics (test accuracy, true "
                                        "hypergradient, ...) every N iterations (NaN in between)"));
  c.objective_every = static_cast<int>(
      options::get_int("-objective_every", 1, 1, 1000000000,
                       "upper_objective and lower_residual (full-data evaluations) every N "
                       "iterations (NaN in between; the first and last rows always carry them)"));
  return c;
}

RunOutcome run_experiment(Problem& problem, Algorithm& algorithm, Vec x, RunFile& file,
                          const DriverConfig& config, RunValidity& validity,
                          const RunStart& run_start) {
  ResultWriter& writer = file.trace();
  const int first_iteration = run_start.first_iteration;
  const MPI_Comm comm = problem.comm();
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  RunOutcome outcome;
  outcome.status = RunStatus::completed;
  // A resumed run that has nothing left to do reports the stored trace's last values. The
  // objective is the last evaluated one (an interrupted run's last row may not have one).
  double last_objective = writer.last("upper_objective");
  outcome.final_hypergrad_norm = writer.last("hypergrad_norm");
  double elapsed = run_start.time_offset;
  Record record;
  // Names of the reporting-only metrics, learnt at the first report, so rows in between carry
  // NaN.
  std::vector<std::string> report_names;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  GrowthReference start{};
  // x and the algorithm's step state at the start of the current step, restored if it is
  // interrupted.
  OwnedVec last_x = duplicate(x);
  const std::vector<Vec> step_state = algorithm.step_state();
  std::vector<OwnedVec> last_state;
  for (Vec v : step_state)
    last_state.push_back(duplicate(v));
  // Only the steps' oracle calls count: what the setup called is dropped here, what the
  // reporting calls is dropped after each report, and an interrupted step's are dropped with it.
  OracleCounts& counts = problem.oracle_counts();
  counts = run_start.oracle_counts;
  const bool samples_column = problem.structure().finite_sum;

  for (int k = first_iteration; k < config.outer_iters; ++k) {
    // One collective check per iteration: a signal on any rank, or a flush due on rank 0.
    int flags[2] = {stop_signalled() ? 1 : 0, (rank == 0 && writer.flush_due()) ? 1 : 0};
    MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, comm);
    if (flags[0]) {
      outcome.status = RunStatus::interrupted;
      break;
    }
    if (flags[1])
      file.checkpoint(algorithm, x, run_start.x_start);

    record.clear();
    record.set("iteration", k);
    record.set("time", 0.0);
    MPI_Barrier(comm);
    PetscLogDouble t0 = 0, t1 = 0;
    const PhaseTimes before = phase_times();
    // A stop inside the step (Interrupted, on every rank together) keeps the last completed
    // iteration's x and step state (lower iterate, warm starts), so a restart continues exactly.
    BB_PETSC(VecCopy(x, last_x));
    for (std::size_t i = 0; i < step_state.size(); ++i)
      BB_PETSC(VecCopy(step_state[i], last_state[i]));
    const OracleCounts last_counts = counts;
    try {
      StageScope stage(log_events().iterations);
      BB_PETSC(PetscTime(&t0));
      algorithm.step(x, record);
      BB_PETSC(PetscTime(&t1));
    } catch (const Interrupted&) {
      BB_PETSC(VecCopy(last_x, x));
      for (std::size_t i = 0; i < step_state.size(); ++i)
        BB_PETSC(VecCopy(last_state[i], step_state[i]));
      counts = last_counts;
      outcome.status = RunStatus::interrupted;
      break;
    }
    const PhaseTimes after = phase_times();
    // The slowest rank's time is the step's time, and likewise for its phases.
    double seconds[3] = {t1 - t0, after.inner - before.inner,
                         after.hypergradient - before.hypergradient};
    MPI_Allreduce(MPI_IN_PLACE, seconds, 3, MPI_DOUBLE, MPI_MAX, comm);
    elapsed += seconds[0];
    record.set("time", elapsed);
    record.set("inner_time", seconds[1]);
    record.set("hypergrad_time", seconds[2]);
    counts.add_calls(OracleKind::inner_solve, record.solves());
    counts.record(record, samples_column);
    const OracleCounts step_counts = counts;

    bool algorithm_set_hypergrad = record.has("hypergrad_norm");
    std::vector<std::string> failures = record.failures();
    // The run's last row (known before reporting, so that it reports): the iteration limit, the
    // time budget, or the step's own hypergradient under the tolerance.
    const bool last_row = k + 1 == config.outer_iters ||
                          (config.time_budget > 0 && elapsed >= config.time_budget) ||
                          (config.tolerance > 0 && algorithm_set_hypergrad &&
                           record.get("hypergrad_norm") <= config.tolerance);
    // Rows that evaluate, counted from row 0 so that a resumed trace evaluates on the same rows;
    // its first row always does (it sets the growth reference and learns the reported names).
    const auto due = [&](int every) { return k % every == 0 || k == first_iteration || last_row; };
    const bool objective_evaluated = due(config.objective_every);
    double x_norm = 0, y_norm = 0;
    {
      StageScope stage(log_events().reporting);
      LogScope scope(log_events().report);
      const StopChecksDeferred deferred; // the step is done: its row is finished, not cut short
      Vec y = algorithm.lower_iterate();
      // The full-data objective and residual are a pass over the data, which for a
      // stochastic solver cost about five of its steps: -objective_every thins them.
      record.set("upper_objective", objective_evaluated ? problem.upper_value(x, y) : nan);
      record.set("lower_residual", objective_evaluated ? problem.lower_residual(x, y) : nan);
      if (objective_evaluated)
        last_objective = record.get("upper_objective");
      x_norm = norm(x);
      y_norm = norm(y);
      if (k == first_iteration)
        start = {record.get("upper_objective"), x_norm, y_norm};
      // Reporting-only quantities (the algorithm's, e.g. a true hypergradient, and the
      // problem's, e.g. test accuracy) every -report_every rows; NaN in between.
      if (due(config.report_every)) {
        Record reported;
        algorithm.report(x, reported);
        algorithm_set_hypergrad = algorithm_set_hypergrad || reported.has("hypergrad_norm");
        problem.report_metrics(x, y, reported);
        failures.insert(failures.end(), reported.failures().begin(), reported.failures().end());
        for (const auto& [name, value] : reported.entries()) {
          record.set(name, value);
          if (std::find(report_names.begin(), report_names.end(), name) == report_names.end())
            report_names.push_back(name);
        }
      } else {
        for (const auto& name : report_names)
          record.set(name, nan);
      }
      if (!record.has("hypergrad_norm"))
        record.set("hypergrad_norm", nan);
    }
    counts = step_counts;
    // Inner solves (of the step or of the reporting) that missed their tolerance flag the row
    // and count against the run's validity.
    record.set("inner_ok", failures.empty() ? 1.0 : 0.0);
    validity.count_iteration(k, failures);
    writer.append(record);
    outcome.final_hypergrad_norm = record.get("hypergrad_norm");

    if (rank == 0 && config.monitor_every > 0 &&
        ((k + 1) % config.monitor_every == 0 || k == first_iteration)) {
      std::printf("%6d  t %9.3fs  f %-+14.8e  |grad| %-12.6e  res %-12.6e", k, elapsed,
                  record.get("upper_objective"), record.get("hypergrad_norm"),
                  record.get("lower_residual"));
      if (record.has("test_accuracy") && std::isfinite(record.get("test_accuracy")))
        std::printf("  acc %.4f", record.get("test_accuracy"));
      std::printf("\n");
      std::fflush(stdout);
    }
    if (const std::string why =
            divergence(record, algorithm_set_hypergrad, objective_evaluated, start, x_norm, y_norm);
        !why.empty()) {
      outcome.status = RunStatus::diverged;
      validity.invalidate("diverged at iteration " + std::to_string(k) + ": " + why);
      if (rank == 0)
        std::fprintf(stderr, "bilevelbench: diverged at iteration %d: %s\n", k, why.c_str());
      break;
    }
    if (config.tolerance > 0 && record.get("hypergrad_norm") <= config.tolerance) {
      outcome.status = RunStatus::converged;
      break;
    }
    if (config.time_budget > 0 && elapsed >= config.time_budget)
      break;
  }
  outcome.seconds = elapsed;
  outcome.final_upper_objective = last_objective;
  file.checkpoint(algorithm, x, run_start.x_start);
  outcome.iterations = static_cast<int>(writer.rows());
  outcome.first_hypergrad_norm = writer.first("hypergrad_norm");
  outcome.validity = validity.verdict();
  return outcome;
}

} // namespace bilevel
