// AID and ITD against the closed-form hypergradient of `quadratic`: AID to 1e-8 at a tight KSP
// tolerance; ITD's error decays geometrically in T, and a fit of log(error) against T recovers
// the rate of the inner gradient iteration, 1 - 1/cond.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bilevel::test {
namespace {

TEST(Hypergradients, AidMatchesClosedForm) {
  auto problem = make_problem("quadratic", "-problem_ny 300 -problem_nx 12 -problem_cond 30");
  const double error = hypergradient_error(
      *problem, "aid", "-alg_inner_iters 3000 -alg_ksp_rtol 1e-14 -alg_ksp_max_it 2000");
  EXPECT_LE(error, 1e-8);
}

TEST(Hypergradients, AidWithLooseKspIsLessAccurate) {
  // The same comparison must be able to fail: a loose solve is visibly worse.
  auto problem = make_problem("quadratic", "-problem_ny 300 -problem_nx 12 -problem_cond 30");
  const double error = hypergradient_error(
      *problem, "aid", "-alg_inner_iters 3000 -alg_ksp_rtol 1e-2 -alg_ksp_max_it 2000");
  EXPECT_GT(error, 1e-6);
}

TEST(Hypergradients, ItdErrorDecaysGeometricallyInT) {
  const double cond = 8.0;
  auto problem = make_problem("quadratic", "-problem_ny 200 -problem_nx 6 -problem_cond 8");
  std::vector<double> ts, logs;
  for (int t = 10; t <= 80; t += 10) {
    const double error = hypergradient_error(
        *problem, "itd", "-alg_warm_start false -alg_inner_iters " + std::to_string(t));
    ts.push_back(t);
    logs.push_back(std::log(error));
  }
  const double ratio = std::exp(least_squares_slope(ts, logs));
  // With eta = 1/L, gradient descent on a quadratic contracts by 1 - mu/L = 1 - 1/cond per step;
  // the error carries an extra factor T (T q^T), which the fit over T in [10, 80] absorbs as a
  // slightly larger ratio.
  const double q = 1.0 - 1.0 / cond;
  EXPECT_GT(ratio, q - 0.02);
  EXPECT_LT(ratio, q + 0.03);
  EXPECT_LT(std::exp(logs.back()), 1e-3);
}

} // namespace
} // namespace bilevel::test
