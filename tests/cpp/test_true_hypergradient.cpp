// The reporting solve TrueHypergradient on the finite-sum quadratic, whose closed form it must
// reproduce: ||grad Phi(x)|| and y*(x) to 1e-8 relative, at two points in turn (the second solve
// starts from the first one's solutions), and a failed solve is reported, not returned as a number.
#include "test_support.hpp"

#include "bilevel/problems/finite_sum_quadratic.hpp"
#include "bilevel/solvers/true_hypergradient.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

namespace bilevel::test {
namespace {

const char* const kSmall = "-problem_n_inner 300 -problem_n_outer 70 -problem_dim_inner 9 "
                           "-problem_dim_outer 4 -seed 5";

/// The problem at its initial point and the component, under `options` (kept in force: the
/// solvers read theirs when they are built).
struct Instance {
  explicit Instance(const std::string& options) : scoped(options) {
    EXPECT_TRUE(TrueHypergradient::requested());
    problem = std::make_unique<FiniteSumQuadratic>(
        PETSC_COMM_WORLD, FiniteSumQuadratic::Config::from_options(current_run()));
    x = problem->create_x();
    y = problem->create_y();
    problem->initial_x(x);
    problem->initial_y(x, y);
    truth = std::make_unique<TrueHypergradient>(*problem, x, y);
  }
  ScopedOptions scoped;
  std::unique_ptr<Problem> problem; ///< through Problem: the Vec oracles
  OwnedVec x, y;
  std::unique_ptr<TrueHypergradient> truth;
};

double norm(Vec v) {
  PetscReal value = 0;
  BB_PETSC(VecNorm(v, NORM_2, &value));
  return value;
}

double distance(Vec a, Vec b) {
  OwnedVec d = duplicate(a);
  BB_PETSC(VecWAXPY(d, -1.0, b, a));
  return norm(d);
}

TEST(TrueHypergradient, MatchesTheClosedFormOfTheFiniteSumQuadratic) {
  Instance instance(kSmall);
  Problem& problem = *instance.problem;
  Vec x = instance.x, y = instance.y;
  TrueHypergradient& truth = *instance.truth;
  OwnedVec grad = problem.create_x(), y_star = problem.create_y();
  for (int point = 0; point < 2; ++point) {
    fill_random(x, 40 + static_cast<std::uint64_t>(point));
    Record record;
    const double got = truth.norm(x, record);
    problem.exact_hypergradient(x, grad, y_star);
    const double want = norm(grad);
    const double norm_error = std::abs(got - want) / want;
    const double y_error = distance(truth.lower_solution(), y_star) / norm(y_star);
    const double distance_error =
        std::abs(truth.lower_distance(y) - distance(y, y_star)) / distance(y, y_star);
    std::printf("point %d: ||grad Phi|| %.6e, relative errors %.1e (norm) %.1e (y*) %.1e "
                "(||y - y*||); %g Newton steps, %g CG iterations\n",
                point, want, norm_error, y_error, distance_error,
                record.get("true_lower_iterations"), record.get("true_ksp_iterations"));
    EXPECT_LT(norm_error, 1e-8);
    EXPECT_LT(y_error, 1e-8);
    EXPECT_LT(distance_error, 1e-8);
    EXPECT_EQ(record.get("true_lower_converged"), 1.0);
    EXPECT_EQ(record.get("true_ksp_converged"), 1.0);
    EXPECT_TRUE(record.failures().empty());
  }
}

TEST(TrueHypergradient, AFailedSolveIsReportedAndGivesNaN) {
  // One CG iteration cannot solve for v* in dimension 9.
  Instance instance(std::string(kSmall) + " -alg_ksp_max_it 1");
  Vec x = instance.x;
  TrueHypergradient& truth = *instance.truth;
  fill_random(x, 41);
  Record record;
  EXPECT_TRUE(std::isnan(truth.norm(x, record)));
  EXPECT_EQ(record.get("true_ksp_converged"), 0.0);
  EXPECT_FALSE(record.failures().empty());
}

} // namespace
} // namespace bilevel::test
