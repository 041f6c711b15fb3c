#pragma once
// What a problem's lower level is: the one declaration every capability question is answered
// from. Each problem class states it as `static constexpr ProblemStructure kStructure` and returns
// it from Problem::structure(); the catalog registers that same constant, so the refusals, -list
// and the callers that reach an optional oracle or interface (problems/interfaces.hpp) all read
// one value, and check_declared_structure() (capabilities.hpp) holds the built object to it.

namespace bilevel {

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
  LowerForm form = LowerForm::objective; ///< vi: a ViProblem without g (lower_value etc. throw)
  LowerConstraints constraints = LowerConstraints::none;
  LowerConvexity convexity = LowerConvexity::strongly_convex;
  bool exact_hypergradient = false; ///< a closed-form hypergradient (Problem::exact_hypergradient)
  bool upper_constrained = false;   ///< x lives in a set (Problem::upper_set)
  bool qp_lower_level = false;      ///< dense QP lower level (QpLowerLevel)
  bool box_qp_lower_level = false;  ///< distributed bound-constrained QP (BoxQpLowerLevel)
  /// A VI whose grad_y F is an assembled Mat independent of (y, x)
  /// (ViProblem::constant_jacobian_y), which a Newton-type solver can precondition.
  bool constant_vi_jacobian = false;
  /// Coarser copies of the instance for grid sequencing (GridHierarchy).
  bool grid_hierarchy = false;
  /// f and g are means over samples with per-sample oracles (FiniteSumProblem): what the
  /// stochastic solvers need.
  bool finite_sum = false;

  friend constexpr bool operator==(const ProblemStructure&, const ProblemStructure&) = default;
};

} // namespace bilevel
