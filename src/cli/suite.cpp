#include "bilevel/cli/experiment.hpp"
#include "bilevel/cli/modes.hpp"
#include "bilevel/cli/prepared_run.hpp"
#include "bilevel/cli/suite_summary.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/driver/run_validity.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/quick_suite.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace bilevel::cli {

namespace {

/// One run of a suite: its options (without comments) and the line it came from.
struct SuiteRun {
  std::string options;
  int line;
};

std::vector<SuiteRun> parse_suite(const std::string& text) {
  std::vector<SuiteRun> runs;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = line.substr(0, line.find('#'));
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      runs.push_back({line, number});
  }
  return runs;
}

/// One suite line read and built as it will run, in the current (scoped) options database.
PreparedRun prepare(MPI_Comm comm) {
  PreparedRun run = read_run(comm, true);
  set_up(run, nullptr);
  return run;
}

/// Builds every run as it will be run (problem, algorithm, setup, no unused option) without
/// running it, so a bad line is reported, with its number, before anything runs or is written.
void validate(MPI_Comm comm, const std::string& suite, const std::vector<SuiteRun>& runs) {
  if (runs.empty())
    throw InputError("suite '" + suite + "' has no runs; accepted: one run's options per line");
  for (const SuiteRun& run : runs) {
    try {
      ScopedOptions scoped(run.options);
      (void)prepare(comm);
    } catch (const InputError& e) {
      throw InputError("suite '" + suite + "' line " + std::to_string(run.line) + ": " + e.what());
    }
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw InputError("suite file '" + path +
                     "' cannot be read; accepted: 'quick' or a file of "
                     "one run's options per line");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The suite file's root `status`, true at every moment as a run's: `running` until the suite
/// ends, then `completed` (every line ran) or `interrupted`, with a root `validity` (empty: not
/// yet known).
void write_suite_status(MPI_Comm comm, hid_t file, RunStatus status,
                        const std::string& validity = "") {
  h5::agree(comm, file, [&] {
    h5::write_attribute(file, "status", status_word(status));
    if (!validity.empty())
      h5::write_attribute(file, "validity", validity);
    h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush");
  });
}

} // namespace

int suite_mode(MPI_Comm comm) {
  const std::string suite = options::get_string("-suite", "quick", "suite: 'quick' or a file");
  const std::string output = options::get_string(
      "-output", "results/" + std::filesystem::path(suite).stem().string() + "_suite.h5",
      "result file");
  options::reject_unused();
  const auto runs = parse_suite(suite == "quick" ? kQuickSuite : read_text(suite));
  validate(comm, suite, runs);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const auto parent = std::filesystem::path(output).parent_path();
  if (rank == 0 && !parent.empty())
    std::filesystem::create_directories(parent);
  MPI_Barrier(comm);
  h5::File file = h5::open_file(comm, output, "w");
  write_suite_status(comm, file, RunStatus::running);
  std::vector<SuiteSummaryRow> rows;
  int worst = kExitOk;
  RunValidity suite_validity; // its reasons: the groups of the runs that are not valid
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ScopedOptions scoped(runs[i].options);
    PreparedRun prepared = prepare(comm);
    const Experiment& e = prepared.experiment;
    char group[64];
    std::snprintf(group, sizeof group, "run%02zu_%s_%s", i, e.problem_name.c_str(),
                  e.algorithm_name.c_str());
    const RunOutcome outcome = execute(prepared, file, group, runs[i].options, 5.0).outcome;
    if (outcome.validity.rfind("invalid", 0) == 0)
      suite_validity.invalidate(group);
    else if (outcome.validity != "valid")
      suite_validity.doubt(group);
    rows.push_back({e.problem_name, e.algorithm_name, runs[i].options, status_word(outcome.status),
                    outcome.validity, outcome.iterations, outcome.seconds,
                    outcome.final_upper_objective, outcome.final_hypergrad_norm});
    if (rank == 0) {
      std::printf("[%zu/%zu] %s/%s: %s (%s), %d iterations, %.3f s\n", i + 1, runs.size(),
                  e.problem_name.c_str(), e.algorithm_name.c_str(),
                  status_word(outcome.status).c_str(), outcome.validity.c_str(), outcome.iterations,
                  outcome.seconds);
      std::fflush(stdout);
    }
    if (outcome.status == RunStatus::interrupted) {
      worst = kExitInterrupted;
      break;
    }
    worst = std::max(worst, exit_code_for(outcome.status, outcome.validity));
  }
  write_suite_status(comm, file,
                     worst == kExitInterrupted ? RunStatus::interrupted : RunStatus::completed,
                     suite_validity.verdict());
  if (rank == 0) {
    int nranks = 1;
    MPI_Comm_size(comm, &nranks);
    std::printf("\nSuite '%s' on %d rank(s) -> %s\n%s", suite.c_str(), nranks, output.c_str(),
                suite_summary_table(rows).c_str());
  }
  return worst;
}

} // namespace bilevel::cli
