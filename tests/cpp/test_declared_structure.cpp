// Every capability question is answered by a problem's declared ProblemStructure: the catalog
// registers the class's kStructure, structure() returns it at run time, and the oracles, sets and
// interfaces of the built object must agree with it. check_declared_structure is the guard; these
// tests run it on every registered problem and show that it catches each kind of contradiction.
#include "test_support.hpp"

#include "bilevel/capabilities.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/toy_sc.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace bilevel::test {
namespace {

/// Small instances of the problems whose defaults load or build much data.
const std::map<std::string, std::string> kSmall = {
    {"quadratic", "-problem_ny 50"},
    {"logreg_hyper", "-problem_train 100 -problem_val 50 -problem_test 50"},
    {"hyperparam_logreg", "-problem_train 100 -problem_val 50 -problem_test 50"},
    {"hyperclean", "-problem_train 100 -problem_val 50 -problem_test 50"},
    {"obstacle_control", "-problem_grid 16"},
    {"cournot", "-problem_firms 20"},
    {"box_qp_bilevel", "-problem_ny 100"},
    {"dfl_qp", "-problem_train 16 -problem_test 8 -problem_batch 8"},
    {"sudoku_lp", "-problem_train 16 -problem_test 8 -problem_batch 8"},
    {"finite_sum_quadratic", "-problem_n_inner 256 -problem_n_outer 64"},
};

std::string small_options(const std::string& name) {
  const auto it = kSmall.find(name);
  return it == kSmall.end() ? "" : it->second;
}

TEST(DeclaredStructure, EveryRegisteredProblemMatchesItsDeclaration) {
  for (const auto& [name, entry] : problem_registry().entries()) {
    SCOPED_TRACE(name);
    const auto problem = make_problem(name, small_options(name));
    EXPECT_TRUE(problem->structure() == entry.traits);
    EXPECT_NO_THROW(check_declared_structure(*problem, entry.traits));
  }
}

ToySc::Config toy_config() {
  ScopedOptions scoped("");
  return ToySc::Config::from_options(current_run());
}

/// A subclass that forgets to restate its structure answers with its base's (a closed form it
/// does not have).
class InheritsStructure final : public ToySc {
public:
  static constexpr ProblemStructure kStructure{.convexity = LowerConvexity::nonconvex};
  using ToySc::ToySc;
};

/// A structure that promises a lower set the object does not have.
class PromisesBounds final : public ToySc {
public:
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::bounds,
                                               .exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  using ToySc::ToySc;
};

/// A structure that promises an interface the object does not implement.
class PromisesQpLowerLevel final : public ToySc {
public:
  static constexpr ProblemStructure kStructure{.exact_hypergradient = true, .qp_lower_level = true};
  const ProblemStructure& structure() const override { return kStructure; }
  using ToySc::ToySc;
};

template <class T> void expect_contradiction(const std::string& what) {
  const T problem(PETSC_COMM_WORLD, toy_config());
  try {
    check_declared_structure(problem, T::kStructure);
    ADD_FAILURE() << "no contradiction found; expected: " << what;
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find(what), std::string::npos) << error.what();
  }
}

TEST(DeclaredStructure, ContradictionsAreInternalErrors) {
  expect_contradiction<InheritsStructure>("structure() differs");
  expect_contradiction<PromisesBounds>("lower set");
  expect_contradiction<PromisesQpLowerLevel>("QP lower level");
}

TEST(DeclaredStructure, RequireReachesOnlyDeclaredInterfaces) {
  const auto qp = make_problem("qp_bilevel", "-problem_nx 4 -problem_ny 12 -problem_ineq 15");
  EXPECT_NO_THROW(require<QpLowerLevel>(*qp));
  const auto toy = make_problem("toy_sc", "");
  try {
    require<QpLowerLevel>(*toy);
    ADD_FAILURE() << "require gave toy_sc an interface it does not declare";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("problem 'toy_sc' does not declare"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(require<ViProblem>(*toy), std::logic_error);
}

} // namespace
} // namespace bilevel::test
