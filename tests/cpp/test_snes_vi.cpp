// The SNESVI reference inner solver (docs/algorithms.md §3.8, issue item 6): its solution is the
// VI's, checked against the closed form (affine_vi_box), the natural-map fixed point
// (obstacle_control with the assembled Laplacian, cournot through the matrix-free shell), and the
// D-gap, which must be >= 0 everywhere and zero at the solution.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/natural_map.hpp"
#include "bilevel/solvers/natural_map_iteration.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

struct Solved {
  OwnedVec x, y;
  SnesViSolver::Outcome outcome;
};

/// SNESVI from the problem's initial y at its initial x, to a D-gap of `tolerance`.
Solved solve_by_snesvi(Problem& problem, double tolerance) {
  Solved s{problem.create_x(), problem.create_y(), {}};
  problem.initial_x(s.x);
  problem.initial_y(s.x, s.y);
  ScopedOptions scoped("");
  SnesViSolver solver(problem, s.y, "test_snesvi_");
  s.outcome = solver.solve(s.x, s.y, tolerance);
  return s;
}

/// The natural-map fixed point y <- P(y - F/b) from the same start, run until it stalls.
OwnedVec solve_by_fixed_point(Problem& problem, Vec x, double b, int max_steps) {
  OwnedVec y = problem.create_y();
  problem.initial_y(x, y);
  NaturalMap map(problem, y, b);
  NaturalMapIteration loop(map, y);
  const auto outcome = loop.run_until(x, y, 1e-15, max_steps);
  EXPECT_LT(outcome.steps, max_steps) << "the fixed point did not converge";
  return y;
}

TEST(SnesVi, MatchesTheClosedFormAndZeroesTheDGap) {
  auto problem = make_problem("affine_vi_box", "-problem_ny 40 -problem_nx 5");
  const Solved s = solve_by_snesvi(*problem, 1e-13);
  EXPECT_TRUE(s.outcome.converged);
  OwnedVec grad = problem->create_x(), y_star = problem->create_y();
  problem->exact_hypergradient(s.x, grad, y_star);
  EXPECT_LE(relative_error(s.y, y_star), 1e-10);
  const double gap = problem->lower_residual(s.x, s.y);
  EXPECT_GE(gap, 0.0);
  EXPECT_LE(gap, 1e-12);
  EXPECT_EQ(gap, s.outcome.residual);
}

TEST(SnesVi, AgreesWithTheFixedPointOnTheObstacleProblem) {
  auto problem = make_problem("obstacle_control", "-problem_grid 20 -problem_load -5");
  const Solved s = solve_by_snesvi(*problem, 1e-12);
  EXPECT_TRUE(s.outcome.converged);
  EXPECT_LE(s.outcome.residual, 1e-12);
  EXPECT_GE(s.outcome.residual, 0.0);
  const double lipschitz =
      problem->lower_curvature(s.x, nullptr, CurvatureNeed::lipschitz).lipschitz;
  const OwnedVec fixed = solve_by_fixed_point(*problem, s.x, lipschitz, 200000);
  EXPECT_LE(relative_error(s.y, fixed), 1e-9);
  // A semismooth Newton method: a handful of active-set changes, not thousands of steps.
  EXPECT_LE(s.outcome.newton_steps, 20);
}

TEST(SnesVi, AgreesWithTheFixedPointOnCournotThroughTheShell) {
  auto problem = make_problem("cournot", "-problem_firms 1000");
  const Solved s = solve_by_snesvi(*problem, 1e-12);
  EXPECT_TRUE(s.outcome.converged);
  EXPECT_GE(s.outcome.residual, 0.0);
  const double lipschitz =
      problem->lower_curvature(s.x, nullptr, CurvatureNeed::lipschitz).lipschitz;
  const OwnedVec fixed = solve_by_fixed_point(*problem, s.x, lipschitz, 20000);
  EXPECT_LE(relative_error(s.y, fixed), 1e-10);
  EXPECT_LE(problem->lower_residual(s.x, fixed), 1e-12);
}

TEST(SnesVi, KktViGivesTheSameHypergradientWithEitherLowerSolver) {
  auto problem = make_problem("obstacle_control", "-problem_grid 10 -problem_load -5");
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  const std::string b =
      "-alg_b " +
      std::to_string(problem->lower_curvature(x, nullptr, CurvatureNeed::lipschitz).lipschitz);
  OwnedVec grads[2] = {problem->create_x(), problem->create_x()};
  const char* solvers[2] = {"natural_map", "snesvi"};
  for (int k = 0; k < 2; ++k) {
    ScopedOptions scoped(b + " -alg_inner_solver " + solvers[k]);
    auto kkt = algorithm_registry().at("kkt_vi").create(current_run());
    kkt->setup(*problem, x);
    Record record;
    kkt->hypergradient(x, grads[k], record);
  }
  EXPECT_LE(relative_error(grads[1], grads[0]), 1e-9);
}

TEST(SnesVi, RejectsSetsThatAreNotBounds) {
  auto problem = make_problem("qp_bilevel", ""); // a polyhedron
  OwnedVec y = problem->create_y();
  ScopedOptions scoped("");
  EXPECT_THROW(SnesViSolver(*problem, y, "test_snesvi_"), InputError);
}

// Without a lower set SNESVI is Newton's method: on the quadratic it meets a tight tolerance at
// the closed-form y*.
TEST(SnesVi, UnconstrainedIsNewton) {
  auto problem = make_problem("quadratic", "-problem_ny 40");
  OwnedVec x = problem->create_x(), y = problem->create_y(), grad = problem->create_x();
  OwnedVec y_star = problem->create_y();
  problem->initial_x(x);
  problem->initial_y(x, y);
  problem->exact_hypergradient(x, grad, y_star);
  ScopedOptions scoped("");
  SnesViSolver solver(*problem, y, "test_snesvi_");
  const SnesViSolver::Outcome outcome = solver.solve(x, y, 1e-12);
  EXPECT_TRUE(outcome.converged);
  EXPECT_LE(outcome.residual, 1e-12);
  EXPECT_LE(relative_error(y, y_star), 1e-10);
}

} // namespace
} // namespace bilevel::test
