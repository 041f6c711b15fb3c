#pragma once
// What a problem's lower level is, and what an algorithm needs of it. Each problem declares its
// ProblemStructure and each algorithm its Requirements in the catalog, so a pair that cannot give
// a correct answer is refused before any data is loaded or any file is created, with the reason
// and the algorithms that do apply. `-list` prints the whole compatibility matrix from the same
// declarations, and the run checks that the built problem matches what its entry declared.
#include <optional>
#include <string>

namespace bilevel {

class Problem;

/// How the lower level is given: an objective g (with F = grad_y g), or only a VI map F.
enum class LowerForm { objective, vi };

/// The lower level's constraints, as the generic methods can see them.
enum class LowerConstraints {
  none,   ///< unconstrained
  bounds, ///< coordinate bounds, through Problem::lower_set() (box, orthant, per-entry bounds)
  set,    ///< a general closed convex set through lower_set() (ball, simplex, polyhedron)
  layers, ///< QP or convex layers whose constraints only the QP-layer interface describes
};

/// The weakest property of g(x, .) (or monotonicity of F) the instance guarantees, strongest
/// first so that "at least as strong" is `<=`.
enum class LowerConvexity { strongly_convex, convex, nonconvex };

struct ProblemStructure {
  LowerForm form = LowerForm::objective;
  LowerConstraints constraints = LowerConstraints::none;
  LowerConvexity convexity = LowerConvexity::strongly_convex;
  bool exact_hypergradient = false; ///< a closed-form hypergradient (Problem::exact_hypergradient)
  bool upper_constrained = false;   ///< x lives in a set (Problem::upper_set)
  bool qp_lower_level = false;      ///< dense QP lower level (QpLowerLevel)
  bool box_qp_lower_level = false;  ///< distributed bound-constrained QP (BoxQpLowerLevel)
};

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
  /// The relative hypergradient error -validate expects the method's default settings to reach
  /// on small instances; 0 when its estimate is not an approximation of grad Phi to a tolerance
  /// (randomized, or the gradient of another objective).
  double validation_tolerance = 0.0;
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
