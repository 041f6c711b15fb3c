#pragma once
// The one way to reach a problem's optional interface: require<Interface>(problem) returns it if
// the problem's structure declares it and throws std::logic_error naming the problem otherwise, so
// no caller casts or tests for a missing interface. The cast below is the only one: it finds the
// object the structure promised, and check_declared_structure verifies that every declared
// interface is there (and no undeclared one) when a problem is built.
#include "bilevel/problems/box_qp_lower_level.hpp"
#include "bilevel/problems/finite_sum.hpp"
#include "bilevel/problems/grid_hierarchy.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/qp_lower_level.hpp"
#include "bilevel/problems/vi_problem.hpp"

#include <stdexcept>
#include <string>

namespace bilevel {

/// Which field of ProblemStructure declares an interface, and its name for messages.
template <class Interface> struct InterfaceDeclaration;

template <> struct InterfaceDeclaration<QpLowerLevel> {
  static constexpr const char* name = "a dense QP lower level (QpLowerLevel)";
  static bool in(const ProblemStructure& s) { return s.qp_lower_level; }
};
template <> struct InterfaceDeclaration<BoxQpLowerLevel> {
  static constexpr const char* name = "a bound-constrained QP lower level (BoxQpLowerLevel)";
  static bool in(const ProblemStructure& s) { return s.box_qp_lower_level; }
};
template <> struct InterfaceDeclaration<QpLayerProblem> {
  static constexpr const char* name = "QP layers (QpLayerProblem)";
  static bool in(const ProblemStructure& s) { return s.constraints == LowerConstraints::layers; }
};
template <> struct InterfaceDeclaration<ViProblem> {
  static constexpr const char* name = "a VI lower level (ViProblem)";
  static bool in(const ProblemStructure& s) { return s.form == LowerForm::vi; }
};

template <> struct InterfaceDeclaration<GridHierarchy> {
  static constexpr const char* name = "coarser grids (GridHierarchy)";
  static bool in(const ProblemStructure& s) { return s.grid_hierarchy; }
};

template <> struct InterfaceDeclaration<FiniteSumProblem> {
  static constexpr const char* name = "per-sample oracles of finite sums (FiniteSumProblem)";
  static bool in(const ProblemStructure& s) { return s.finite_sum; }
};

/// Whether `problem`'s structure declares `Interface`.
template <class Interface> bool declares(const Problem& problem) {
  return InterfaceDeclaration<Interface>::in(problem.structure());
}

/// Whether the object implements `Interface` (check_declared_structure compares it with the
/// declaration; every other caller uses require).
template <class Interface> bool implements(const Problem& problem) {
  return dynamic_cast<const Interface*>(&problem) != nullptr;
}

/// Throws std::logic_error naming the problem unless its structure declares `Interface`.
template <class Interface> void expect_declared(const Problem& problem) {
  if (!declares<Interface>(problem))
    throw std::logic_error("problem '" + problem.name() + "' does not declare " +
                           InterfaceDeclaration<Interface>::name);
}

template <class Interface> Interface& require(Problem& problem) {
  expect_declared<Interface>(problem);
  return dynamic_cast<Interface&>(problem);
}

template <class Interface> const Interface& require(const Problem& problem) {
  expect_declared<Interface>(problem);
  return dynamic_cast<const Interface&>(problem);
}

} // namespace bilevel
