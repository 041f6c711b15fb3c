#pragma once
// What every mode that runs something builds first: the problem and (optionally) the algorithm
// selected by -problem / -algorithm, and the starting x (-x_from's /x, else the problem's own).
#include "bilevel/driver/run_validity.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/validation/hypergradient_validation.hpp"

#include <memory>
#include <optional>
#include <string>

namespace bilevel::cli {

struct Experiment {
  std::string problem_name, algorithm_name;
  RunSpec run; ///< the run's seed, budget and problem factory, which built both
  std::unique_ptr<Problem> problem;
  std::unique_ptr<Algorithm> algorithm; ///< null when the mode needs none
  OwnedVec x;
  /// Why the results cannot be trusted before the run starts (a pair run on a lower level
  /// weaker than the method assumes, by -allow_weaker_convexity); empty when nothing is known.
  std::string invalid_reason;
  /// -validate's check, built before the run when it is enabled (null otherwise).
  std::unique_ptr<HypergradientValidator> validator;
};

/// Throws InputError if `algorithm` cannot solve `problem` correctly, naming the reason and the
/// algorithms that apply; a convexity mismatch with `allow_weaker_convexity` instead returns the
/// reason the run will carry as invalid.
std::optional<std::string> refuse_pair(const std::string& problem, const std::string& algorithm,
                                       bool allow_weaker_convexity);

/// Reads -allow_weaker_convexity (the run and -help read it through this one call).
bool read_allow_weaker_convexity();

/// Reads -problem (and -algorithm if `with_algorithm`), refuses a pair the algorithm cannot
/// solve correctly (InputError naming the algorithms that apply) before anything is built,
/// creates both for `run` (RunSpec::from_options, read by the mode) and x, and checks the built
/// problem against its declared structure.
Experiment make_experiment(const RunSpec& run, bool with_algorithm);

/// Builds experiment.validator when `settings` enable -validate, with the algorithm's documented
/// tolerance; call before options::reject_unused(), as the reference solver reads options.
void prepare_validation(Experiment& experiment, const HypergradientValidation::Settings& settings);

/// -validate at the end of a run (experiment.validator must exist): checks the algorithm's
/// hypergradient at experiment.x, writes /validation under `group`, and marks `validity` invalid
/// if it failed. `estimate`, if given, is the algorithm's hypergradient at experiment.x already
/// computed (-hypergrad); `start_norm`, the run's first hypergradient norm (0 without a run),
/// sets the error's floor (HypergradientValidator::check). Returns the one-line summary.
std::string validate_at_end(Experiment& experiment, hid_t group, RunValidity& validity,
                            Vec estimate = nullptr, double start_norm = 0.0);

/// Reads -x_from if given and loads its /x into experiment.x; returns whether it did.
bool load_x_from_option(MPI_Comm comm, Experiment& experiment);

/// The whole options database as one string (recorded in every result file).
std::string options_string();

} // namespace bilevel::cli
