#pragma once
// What every mode that runs something builds first: the problem and (optionally) the algorithm
// selected by -problem / -algorithm, and the starting x (-x_from's /x, else the problem's own).
#include "bilevel/algorithms/algorithm.hpp"
#include "bilevel/problems/problem.hpp"

#include <memory>
#include <string>

namespace bilevel::cli {

struct Experiment {
  std::string problem_name, algorithm_name;
  std::unique_ptr<Problem> problem;
  std::unique_ptr<Algorithm> algorithm; ///< null when the mode needs none
  OwnedVec x;
};

/// Reads -problem (and -algorithm if `with_algorithm`), creates both and x.
Experiment make_experiment(MPI_Comm comm, bool with_algorithm);

/// Reads -x_from if given and loads its /x into experiment.x; returns whether it did.
bool load_x_from_option(MPI_Comm comm, Experiment& experiment);

/// The whole options database as one string (recorded in every result file).
std::string options_string();

} // namespace bilevel::cli
