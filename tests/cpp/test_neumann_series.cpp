// The Neumann series against a tight Krylov solve (a second method) on `quadratic`: its error
// must shrink by 1 - mu/L per term with eta = 1/L, the contraction its derivation rests on.
#include "test_support.hpp"

#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/hessian_solver.hpp"
#include "bilevel/solvers/neumann_series.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bilevel::test {
namespace {

TEST(NeumannSeries, ErrorShrinksByOneMinusMuOverLPerTerm) {
  const double cond = 8.0;
  auto problem = make_problem("quadratic", "-problem_ny 200 -problem_nx 6 -problem_cond 8");
  OwnedVec x = problem->create_x(), y = problem->create_y(), b = problem->create_y();
  problem->initial_x(x);
  problem->initial_y(x, y);
  fill_random(b, 7);
  const Curvature curvature = problem->lower_curvature(x, y, CurvatureNeed::lipschitz);
  const double eta = 1.0 / curvature.lipschitz;

  OwnedVec reference = problem->create_y();
  BB_PETSC(VecSet(reference, 0.0));
  {
    ScopedOptions scoped("-alg_ksp_rtol 1e-14 -alg_ksp_max_it 1000");
    HessianSolver solver(*problem, y);
    ASSERT_TRUE(solver.solve(x, y, b, reference).converged);
  }
  NeumannSeries series(y);
  OwnedVec v = problem->create_y();
  std::vector<double> terms, logs;
  for (int q = 10; q <= 80; q += 10) {
    series.apply(*problem, x, y, b, q, eta, v);
    terms.push_back(q);
    logs.push_back(std::log(relative_error(v, reference)));
  }
  const double ratio = std::exp(least_squares_slope(terms, logs));
  EXPECT_NEAR(ratio, 1.0 - 1.0 / cond, 0.01);
}

} // namespace
} // namespace bilevel::test
