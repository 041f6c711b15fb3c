#include "bilevel/cli/experiment.hpp"

#include "bilevel/catalog.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/out_of_memory.hpp"
#include "bilevel/io/hdf5.hpp"

#include <new>
#include <optional>
#include <set>

namespace bilevel::cli {

namespace {

/// The algorithms that run the problem correctly, for the refusal message.
std::string applicable_algorithms(const ProblemStructure& problem) {
  std::string out;
  for (const auto& [name, entry] : algorithm_registry().entries())
    if (!refusal(entry.traits, problem))
      out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

/// "problem P" and the problem's options given on the command line, which set its size
/// ("problem quadratic (-problem_ny 500000000)"): what an out-of-memory message must name.
std::string problem_size(const std::string& problem) {
  std::string given;
  std::set<std::string> named; // an option read twice is named once
  for (const OptionHelp& option : options::recorded_help())
    if (option.section == "problem " + problem && options::given(option.name) &&
        named.insert(option.name).second)
      given += (given.empty() ? "" : " ") + option.name + " " + *options::raw(option.name);
  return "problem " + problem + (given.empty() ? "" : " (" + given + ")");
}

} // namespace

std::optional<std::string> refuse_pair(const std::string& problem, const std::string& algorithm,
                                       bool allow_weaker_convexity) {
  const ProblemStructure& structure = problem_registry().at(problem).traits;
  const auto why = refusal(algorithm_registry().at(algorithm).traits, structure);
  if (!why)
    return std::nullopt;
  if (why->convexity_only && allow_weaker_convexity)
    return algorithm + " on " + problem + ": " + why->reason;
  std::string message = "algorithm '" + algorithm + "' cannot solve problem '" + problem +
                        "' correctly: " + why->reason +
                        "; algorithms that apply: " + applicable_algorithms(structure);
  if (why->convexity_only)
    message += " (-allow_weaker_convexity runs it anyway, with validity 'invalid')";
  throw InputError(message);
}

bool read_allow_weaker_convexity() {
  return options::get_bool(
      "-allow_weaker_convexity", false,
      "run a method on a lower level weaker than it assumes (as the papers do to show it "
      "fail); the run's validity is then 'invalid'");
}

Experiment make_experiment(const RunSpec& run, bool with_algorithm) {
  Experiment e;
  e.problem_name = options::get_string("-problem", "", "problem instance (see -list)");
  if (e.problem_name.empty())
    throw InputError("no -problem given; accepted: " + problem_registry().names_joined());
  const auto& problem_entry = problem_registry().at(e.problem_name);
  e.run = with_problem_factory(run, e.problem_name);
  if (with_algorithm) {
    e.algorithm_name = options::get_string("-algorithm", "", "algorithm (see -list)");
    if (e.algorithm_name.empty())
      throw InputError("no -algorithm given; accepted: " + algorithm_registry().names_joined());
  }
  if (with_algorithm) {
    if (auto invalid = refuse_pair(e.problem_name, e.algorithm_name, read_allow_weaker_convexity()))
      e.invalid_reason = *invalid;
  }
  // Build the algorithm first: it only reads options, so a bad value fails before data loads.
  if (with_algorithm)
    e.algorithm = algorithm_registry().at(e.algorithm_name).create(e.run);
  try {
    e.problem = problem_entry.create(e.run);
    check_declared_structure(*e.problem, problem_entry.traits);
    e.x = e.problem->create_x();
    e.problem->initial_x(e.x);
  } catch (const OutOfMemory& error) {
    throw OutOfMemory(std::string(error.what()) + " while building " +
                      problem_size(e.problem_name));
  } catch (const std::bad_alloc&) {
    throw OutOfMemory("a C++ allocation failed while building " + problem_size(e.problem_name));
  }
  return e;
}

void prepare_validation(Experiment& e, const HypergradientValidation::Settings& settings) {
  if (!settings.enabled)
    return;
  const Requirements& method = algorithm_registry().at(e.algorithm_name).traits;
  e.validator = std::make_unique<HypergradientValidator>(
      *e.problem, settings, method.validation_tolerance, method.hypergradient_oracle);
}

std::string validate_at_end(Experiment& e, hid_t group, RunValidity& validity, Vec estimate,
                            double start_norm) {
  const auto result = e.validator->check(*e.algorithm, e.x, estimate, start_norm);
  result.write(group);
  if (!result.passed)
    validity.invalidate("validation: " + result.summary());
  if (result.reference_failed)
    validity.doubt("validation: " + result.summary());
  return result.summary();
}

bool load_x_from_option(MPI_Comm comm, Experiment& experiment) {
  const std::string path =
      options::get_string("-x_from", "", "HDF5 file whose dataset /x is the starting x");
  if (path.empty())
    return false;
  h5::File file = h5::open_file(comm, path, "r");
  try {
    h5::read_vec(file, "x", experiment.x);
  } catch (const InputError& e) {
    throw InputError("-x_from " + path + ": " + e.what() + " (problem '" + experiment.problem_name +
                     "' has nx = " + std::to_string(experiment.problem->nx()) + ")");
  }
  return true;
}

std::string options_string() {
  char* all = nullptr;
  BB_PETSC(PetscOptionsGetAll(nullptr, &all));
  std::string out = all ? all : "";
  BB_PETSC(PetscFree(all));
  return out;
}

} // namespace bilevel::cli
