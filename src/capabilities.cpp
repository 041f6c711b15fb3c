#include "bilevel/capabilities.hpp"

#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <stdexcept>

namespace bilevel {

namespace {

const char* words(LowerConstraints c) {
  switch (c) {
  case LowerConstraints::none:
    return "unconstrained";
  case LowerConstraints::bounds:
    return "bound-constrained";
  case LowerConstraints::set:
    return "set-constrained";
  case LowerConstraints::layers:
    return "QP layers";
  }
  return "?";
}

const char* words(LowerConvexity c) {
  switch (c) {
  case LowerConvexity::strongly_convex:
    return "strongly convex";
  case LowerConvexity::convex:
    return "convex";
  case LowerConvexity::nonconvex:
    return "nonconvex";
  }
  return "?";
}

const char* words(ProblemInterface i) {
  switch (i) {
  case ProblemInterface::generic:
    return "the generic oracles";
  case ProblemInterface::qp_lower_level:
    return "a dense QP lower level (qp_bilevel's kind)";
  case ProblemInterface::box_qp_lower_level:
    return "a distributed bound-constrained QP lower level (box_qp_bilevel's kind)";
  case ProblemInterface::qp_layers:
    return "a batch of QP layers (dfl_qp, sudoku_lp)";
  }
  return "?";
}

bool offers(const ProblemStructure& p, ProblemInterface i) {
  switch (i) {
  case ProblemInterface::generic:
    return p.constraints != LowerConstraints::layers;
  case ProblemInterface::qp_lower_level:
    return p.qp_lower_level;
  case ProblemInterface::box_qp_lower_level:
    return p.box_qp_lower_level;
  case ProblemInterface::qp_layers:
    return p.constraints == LowerConstraints::layers;
  }
  return false;
}

bool handles(const Requirements& a, LowerConstraints c) {
  switch (c) {
  case LowerConstraints::none:
    return a.constraints_none;
  case LowerConstraints::bounds:
    return a.constraints_bounds;
  case LowerConstraints::set:
    return a.constraints_set;
  case LowerConstraints::layers:
    return false;
  }
  return false;
}

} // namespace

std::optional<Refusal> refusal(const Requirements& a, const ProblemStructure& p) {
  if (!offers(p, a.interface))
    return Refusal{p.constraints == LowerConstraints::layers
                       ? std::string("the lower level is a batch of QP layers, which only the "
                                     "QP-layer interface describes")
                       : std::string("it needs ") + words(a.interface),
                   false};
  if (a.exact_hypergradient && !p.exact_hypergradient)
    return Refusal{"the problem has no closed-form hypergradient", false};
  if (a.finite_sum && !p.finite_sum)
    return Refusal{"it samples minibatches, and f and g here are not sums over samples", false};
  if (a.interface != ProblemInterface::generic)
    return std::nullopt;
  if (a.lower_objective && p.form == LowerForm::vi)
    return Refusal{"the lower level is a VI with no objective g", false};
  if (!handles(a, p.constraints))
    return Refusal{std::string("it ignores the lower level's constraints (") +
                       words(p.constraints) + ")",
                   false};
  if (a.upper_unconstrained && p.upper_constrained)
    return Refusal{"it steps x without projecting onto the upper set", false};
  if (!a.exact_hypergradient && p.convexity > a.weakest)
    return Refusal{std::string("it assumes a ") + words(a.weakest) + " lower level; this one is " +
                       words(p.convexity),
                   true};
  return std::nullopt;
}

std::string describe(const ProblemStructure& p) {
  std::string out = p.form == LowerForm::vi ? "VI" : "objective";
  out += std::string(", ") + words(p.constraints) + ", " + words(p.convexity);
  if (p.exact_hypergradient)
    out += ", closed form";
  if (p.finite_sum)
    out += ", finite sum";
  return out;
}

void check_declared_structure(const Problem& problem, const ProblemStructure& declared) {
  const auto fail = [&](const std::string& what) {
    throw std::logic_error("problem '" + problem.name() + "' does not match its declared " +
                           "structure: " + what);
  };
  const ProblemStructure& structure = problem.structure();
  // A subclass that does not restate kStructure answers with its base's.
  if (!(structure == declared))
    fail("structure() differs from the catalog's declaration");
  if (implements<ViProblem>(problem) != declares<ViProblem>(problem))
    fail("lower form");
  // The sets are the one nullable part of the interface: null exactly when declared absent.
  const ConstraintSet* set = problem.lower_set();
  const bool through_set = declared.constraints == LowerConstraints::bounds ||
                           declared.constraints == LowerConstraints::set;
  if ((set != nullptr) != through_set)
    fail("lower set");
  if (set) {
    OwnedVec lower = problem.create_y(), upper = problem.create_y();
    if (set->bounds(lower, upper) != (declared.constraints == LowerConstraints::bounds))
      fail("bounds or general set");
  }
  if ((problem.upper_set() != nullptr) != declared.upper_constrained)
    fail("upper set");
  if (implements<QpLowerLevel>(problem) != declares<QpLowerLevel>(problem))
    fail("QP lower level");
  if (implements<BoxQpLowerLevel>(problem) != declares<BoxQpLowerLevel>(problem))
    fail("box QP lower level");
  if (implements<QpLayerProblem>(problem) != declares<QpLayerProblem>(problem))
    fail("QP layers");
  if (implements<GridHierarchy>(problem) != declares<GridHierarchy>(problem))
    fail("grid hierarchy");
  if (implements<FiniteSumProblem>(problem) != declares<FiniteSumProblem>(problem))
    fail("finite sum");
  if (declared.constant_vi_jacobian && !require<ViProblem>(problem).constant_jacobian_y())
    fail("constant VI Jacobian");
}

} // namespace bilevel
