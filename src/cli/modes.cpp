#include "bilevel/cli/modes.hpp"
#include "bilevel/catalog.hpp"
#include "bilevel/cli/experiment.hpp"
#include "bilevel/cli/prepared_run.hpp"
#include "bilevel/cli/restart_options.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/driver/driver.hpp"
#include "bilevel/driver/run_file.hpp"
#include "bilevel/driver/run_validity.hpp"
#include "bilevel/io/hdf5.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace bilevel::cli {

int exit_code_for(RunStatus status, const std::string& validity) {
  switch (status) {
  case RunStatus::interrupted:
    return kExitInterrupted;
  case RunStatus::diverged:
    return kExitDiverged;
  case RunStatus::running: // a run is never reported while running
  case RunStatus::completed:
  case RunStatus::converged:
    break;
  }
  return validity == "valid" ? kExitOk : kExitNotValid;
}

namespace {

bool is_root() {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  return rank == 0;
}

void print_options(const std::string& section_prefix) {
  std::string last;
  for (const auto& line : options::recorded_help()) {
    if (line.section.rfind(section_prefix, 0) != 0)
      continue;
    if (line.section != last) {
      std::printf("\n%s:\n", line.section.c_str());
      last = line.section;
    }
    std::printf("  %-26s %s [%s]\n", line.name.c_str(), line.help.c_str(), line.value.c_str());
  }
}

/// The width of -list's name column: the longest problem or algorithm name, so that every
/// description and every row of the matrix starts in the same column.
int name_width() {
  std::size_t width = 0;
  for (const auto& entry : problem_registry().entries())
    width = std::max(width, entry.first.size());
  for (const auto& entry : algorithm_registry().entries())
    width = std::max(width, entry.first.size());
  return static_cast<int>(width);
}

/// Which algorithm runs which problem: 'x' correct, 'w' only with -allow_weaker_convexity (the
/// lower level is weaker than the method assumes), '.' refused; each problem's structure last.
void print_compatibility() {
  const auto& algorithms = algorithm_registry().entries();
  std::printf("\nCompatibility (x runs, w only with -allow_weaker_convexity, . refused):\n");
  const int width = name_width();
  std::printf("  %-*s", width, "");
  for (std::size_t column = 0; column < algorithms.size(); ++column)
    std::printf(" %2zu", column + 1);
  std::printf("  lower level\n");
  for (const auto& [name, problem] : problem_registry().entries()) {
    std::printf("  %-*s", width, name.c_str());
    for (const auto& [algorithm, entry] : algorithms) {
      const auto why = refusal(entry.traits, problem.traits);
      std::printf("  %c", !why ? 'x' : why->convexity_only ? 'w' : '.');
    }
    std::printf("  %s\n", describe(problem.traits).c_str());
  }
  std::size_t column = 0;
  for (const auto& [algorithm, entry] : algorithms) {
    ++column;
    std::printf("%s%zu %s", column == 1 ? "  " : ", ", column, algorithm.c_str());
  }
  std::printf("\n");
}

/// Refuses an -output that is -x_from's file: creating the output would destroy the input.
void refuse_output_over_input(const std::string& output) {
  const auto input = options::raw("-x_from");
  namespace fs = std::filesystem;
  if (input && !input->empty() && fs::weakly_canonical(*input) == fs::weakly_canonical(output))
    throw InputError("-x_from " + *input + " and -output " + output +
                     " are the same file; writing the result would destroy the starting point");
}

/// Refuses an output file whose directory is missing or read-only, before anything is built.
void require_writable_directory(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  const std::string directory = parent.empty() ? "." : parent.string();
  if (access(directory.c_str(), W_OK) != 0)
    throw InputError("cannot create HDF5 file '" + path +
                     "': check that its directory exists and is writable");
}

} // namespace

int list_mode() {
  options::reject_unused();
  if (!is_root())
    return kExitOk;
  const int width = name_width();
  std::printf("Problems:\n");
  for (const auto& [name, entry] : problem_registry().entries())
    std::printf("  %-*s %s\n", width, name.c_str(), entry.description.c_str());
  std::printf("Algorithms:\n");
  for (const auto& [name, entry] : algorithm_registry().entries())
    std::printf("  %-*s %s\n", width, name.c_str(), entry.description.c_str());
  print_compatibility();
  return kExitOk;
}

int help_mode() {
  options::clear_recorded_help();
  {
    OptionSection section("general");
    (void)options::get_string("-problem", "", "problem instance (see -list)");
    (void)options::get_string("-algorithm", "", "algorithm (see -list)");
    (void)options::get_string("-output", "results/<problem>_<algorithm>.h5", "result file");
    (void)options::get_string("-restart_from", "", "continue the run stored in this file");
    (void)options::get_string("-x_from", "", "HDF5 file whose /x is the starting x");
    (void)options::get_bool("-list", false, "list problems and algorithms");
    (void)options::get_bool("-hypergrad", false, "evaluate one hypergradient, write /hypergrad");
    (void)options::get_string("-export_problem", "", "write the instance's data to this file");
    (void)options::get_string("-suite", "quick", "run a suite (no arguments: the quick suite)");
    (void)options::get_real("-flush_interval", 5.0, 0.0, 3600.0, "seconds between flushes");
    (void)read_allow_weaker_convexity();
  }
  (void)DriverConfig::from_options(RunSpec::from_options(PETSC_COMM_WORLD));
  (void)HypergradientValidation::Settings::from_options(false);
  const auto problem = options::raw("-problem");
  const auto algorithm = options::raw("-algorithm");
  if (problem)
    problem_registry().at(*problem).declare_options();
  if (algorithm)
    algorithm_registry().at(*algorithm).declare_options();
  if (!is_root())
    return kExitOk;
  std::printf("Usage: bilevelbench -problem P -algorithm A [options] [-output run.h5]\n"
              "       bilevelbench                 (the quick suite, results/quick_suite.h5)\n"
              "       bilevelbench -list | -help [-problem P] [-algorithm A]\n"
              "       bilevelbench -hypergrad -problem P -algorithm A [-x_from x.h5] -output g.h5\n"
              "       bilevelbench -export_problem data.h5 -problem P\n"
              "Run under MPI as mpiexec -n N bilevelbench ...; PETSc options (-log_view,\n"
              "-options_file, -alg_ksp_type, ...) are accepted too.\n");
  print_options("general");
  print_options("run control");
  print_options("outer step");
  if (problem)
    print_options("problem");
  if (algorithm)
    print_options("algorithm");
  if (!problem || !algorithm)
    std::printf("\nAdd -problem P and/or -algorithm A to -help to see their options; -list names "
                "them.\n");
  return kExitOk;
}

int run_mode(MPI_Comm comm) {
  PreparedRun run = read_run(comm, false);
  Experiment& e = run.experiment;
  const std::string restart = options::get_string(
      "-restart_from", "", "continue the run stored in this file (appending to its trace)");
  std::string output = options::get_string("-output", restart, "result file");
  if (output.empty())
    output = "results/" + e.problem_name + "_" + e.algorithm_name + ".h5";
  const double flush_interval = options::get_real(
      "-flush_interval", 5.0, 0.0, 3600.0, "seconds of run time between flushes of the file");
  if (!restart.empty() && restart != output)
    throw InputError("-restart_from " + restart + " appends to its own file; -output " + output +
                     " must name the same file or be omitted");
  if (!restart.empty() && options::given("-x_from"))
    throw InputError("-restart_from and -x_from both set the starting x; give one");
  refuse_output_over_input(output);

  std::optional<StoredRun> stored;
  if (!restart.empty()) {
    stored.emplace(comm, restart, describe(e, options_string()), [](const std::string& options) {
      return restart_option_change(options, options_string());
    });
    stored->read_x_start(e.x);
  } else {
    load_x_from_option(comm, e);
  }
  set_up(run, stored ? &*stored : nullptr);
  h5::File file;
  if (stored) {
    // Opened for writing only now, so a refused restart leaves its file untouched.
    stored.reset();
    file = h5::open_file(comm, restart, "r+");
  } else {
    const auto parent = std::filesystem::path(output).parent_path();
    if (output.rfind("results/", 0) == 0 && !parent.empty() && is_root())
      std::filesystem::create_directories(parent);
    MPI_Barrier(comm);
    file = h5::open_file(comm, output, "w");
  }
  const auto [outcome, validation] = execute(run, file, "/", options_string(), flush_interval);
  if (is_root() && !validation.empty())
    std::printf("%s/%s: %s\n", e.problem_name.c_str(), e.algorithm_name.c_str(),
                validation.c_str());
  if (is_root())
    std::printf("%s/%s: %s (%s) after %d iterations, %.3f s; f = %.10e, |grad| = %.3e -> %s\n",
                e.problem_name.c_str(), e.algorithm_name.c_str(),
                status_word(outcome.status).c_str(), outcome.validity.c_str(), outcome.iterations,
                outcome.seconds, outcome.final_upper_objective, outcome.final_hypergrad_norm,
                output.c_str());
  return exit_code_for(outcome.status, outcome.validity);
}

int hypergrad_mode(MPI_Comm comm) {
  const auto validation = HypergradientValidation::Settings::from_options(false);
  Experiment e = make_experiment(RunSpec::from_options(comm), true);
  const std::string output = options::get_string("-output", "", "result file");
  if (output.empty())
    throw InputError("-hypergrad needs -output FILE for the result");
  refuse_output_over_input(output);
  load_x_from_option(comm, e);
  e.algorithm->setup(*e.problem, e.x);
  if (!algorithm_registry().at(e.algorithm_name).traits.hypergradient_oracle)
    throw InputError("algorithm '" + e.algorithm_name + "' has no hypergradient oracle");
  prepare_validation(e, validation);
  options::reject_unused();
  h5::File file = h5::open_file(comm, output, "w");
  RunFile run_file(comm, file, "/", describe(e, options_string()), false, 1e9);
  OwnedVec grad = duplicate(e.x);
  Record record;
  e.algorithm->hypergradient(e.x, grad, record);
  RunValidity validity;
  if (!e.invalid_reason.empty())
    validity.invalidate(e.invalid_reason);
  validity.count_iteration(0, record.failures());
  h5::write_vec(file, "hypergrad", grad);
  h5::write_vec(file, "x", e.x);
  if (e.problem->structure().exact_hypergradient) {
    OwnedVec exact = duplicate(e.x);
    e.problem->exact_hypergradient(e.x, exact, nullptr);
    h5::write_vec(file, "hypergrad_exact", exact);
  }
  if (e.validator) {
    const std::string summary = validate_at_end(e, run_file.group(), validity, grad);
    if (is_root())
      std::printf("%s/%s: %s\n", e.problem_name.c_str(), e.algorithm_name.c_str(), summary.c_str());
  }
  const std::string verdict = validity.verdict();
  run_file.finish(RunStatus::completed, verdict);
  PetscReal norm = 0;
  BB_PETSC(VecNorm(grad, NORM_2, &norm));
  if (is_root())
    std::printf("hypergradient of %s/%s (%s): |grad| = %.10e -> %s\n", e.problem_name.c_str(),
                e.algorithm_name.c_str(), verdict.c_str(), norm, output.c_str());
  return exit_code_for(RunStatus::completed, verdict);
}

int export_mode(MPI_Comm comm) {
  const std::string output =
      options::get_string("-export_problem", "", "write the instance's data to this file");
  require_writable_directory(output);
  Experiment e = make_experiment(RunSpec::from_options(comm), false);
  options::reject_unused();
  // Some refusals (a problem without an exporter, an instance too large to write densely) come
  // from the exporter itself: it writes under a temporary name, renamed only once complete, so
  // a refusal leaves no file behind.
  const std::string partial = output + ".partial";
  try {
    h5::File file = h5::open_file(comm, partial, "w");
    h5::Group group = h5::require_group(file, "problem");
    h5::write_attribute(group, "name", e.problem_name);
    h5::write_attribute(group, "nx", static_cast<long long>(e.problem->nx()));
    h5::write_attribute(group, "ny", static_cast<long long>(e.problem->ny()));
    h5::write_attribute(group, "options", options_string());
    e.problem->export_data(group);
  } catch (const InputError&) {
    MPI_Barrier(comm);
    if (is_root())
      std::filesystem::remove(partial);
    throw;
  }
  MPI_Barrier(comm);
  if (is_root())
    std::filesystem::rename(partial, output);
  MPI_Barrier(comm);
  if (is_root())
    std::printf("exported %s (nx = %lld, ny = %lld) -> %s\n", e.problem_name.c_str(),
                static_cast<long long>(e.problem->nx()), static_cast<long long>(e.problem->ny()),
                output.c_str());
  return kExitOk;
}

} // namespace bilevel::cli
