#pragma once
// What an algorithm needs of a problem's lower level (Requirements), against what the problem is
// (ProblemStructure, declared by each problem class). The catalog registers both, so a pair that
// cannot give a correct answer is refused before any data is loaded or any file is created, with
// the reason and the algorithms that do apply. `-list` prints the whole compatibility matrix from
// the same declarations, and the run checks that the built problem matches what its entry declared.
#include "bilevel/problems/problem_structure.hpp"

#include <optional>
#include <string>

namespace bilevel {

class Problem;

/// Which interface an algorithm talks to the problem through.
enum class ProblemInterface { generic, qp_lower_level, box_qp_lower_level, qp_layers };

struct Requirements {
  ProblemInterface interface = ProblemInterface::generic;
  bool lower_objective = true;     ///< needs g itself, not only F
  bool constraints_none = true;    ///< handles an unconstrained lower level
  bool constraints_bounds = false; ///< handles coordinate bounds correctly
  bool constraints_set = false;    ///< handles a general convex set correctly
  LowerConvexity weakest = LowerConvexity::strongly_convex; ///< weakest lower level handled
  bool exact_hypergradient = false;                         ///< needs the problem's closed form
  bool upper_unconstrained = false;                         ///< steps x without projecting onto X
  bool finite_sum = false; ///< samples minibatches through FiniteSumProblem (stochastic solvers)
  /// The relative hypergradient error -validate expects the method's default settings to reach
  /// on small instances; 0 when its estimate is not an approximation of grad Phi to a tolerance
  /// (randomized, or the gradient of another objective).
  double validation_tolerance = 0.0;
  /// Whether Algorithm::hypergradient gives an estimate of grad Phi (-hypergrad, -validate); the
  /// catalog sets it from the class (a HypergradientMethod), so no entry can contradict it.
  bool hypergradient_oracle = false;
};

/// Why `algorithm` cannot give a correct answer on a problem of this structure, or nothing when
/// it can. A convexity mismatch is reported separately (`convexity_only`), since the papers run
/// such pairs on purpose to show a method failing (`-allow_weaker_convexity`).
struct Refusal {
  std::string reason;
  bool convexity_only;
};
std::optional<Refusal> refusal(const Requirements& algorithm, const ProblemStructure& problem);

/// Short words for the matrix and messages ("objective", "bounds", "strongly convex", ...).
std::string describe(const ProblemStructure& problem);

/// Throws std::logic_error if the built `problem` does not match its declared structure (a
/// catalog entry that lies would let a wrong pair through).
void check_declared_structure(const Problem& problem, const ProblemStructure& declared);

} // namespace bilevel
