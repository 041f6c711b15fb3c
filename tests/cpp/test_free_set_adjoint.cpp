// kkt_vi's free-set adjoint on a problem that assembles its Jacobian (obstacle_control): the
// multigrid-preconditioned solve on the free block agrees with the matrix-free GMRES path and
// with central differences of Phi, in few Krylov iterations, and the properties a large run
// records (D-gap, adjoint residual, symmetry of the free-set system) hold on a small grid; grid
// sequencing of the cold lower solve.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/validation/hypergradient_validation.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace bilevel::test {
namespace {

// -problem_load -5 leaves part of the state off the obstacle at this grid (with the default
// load the whole state rests on psi and the free set is empty).
const char* const kObstacle = "-problem_grid 40 -problem_load -5";
const char* const kSnesVi = "-alg_inner_solver snesvi -alg_check_adjoint";

struct Adjoint {
  OwnedVec grad;
  Record record;
  double gap;
};

Adjoint kkt_vi_hypergradient(Problem& problem, const std::string& options) {
  ScopedOptions scoped(std::string(kSnesVi) + " " + options);
  auto alg = algorithm_registry().at("kkt_vi").create(current_run());
  OwnedVec x = problem.create_x();
  problem.initial_x(x);
  alg->setup(problem, x);
  Adjoint out{problem.create_x(), Record{}, 0.0};
  alg->hypergradient(x, out.grad, out.record);
  alg->report(x, out.record);
  out.gap = problem.lower_residual(x, alg->lower_iterate());
  return out;
}

TEST(FreeSetAdjoint, MultigridPathMatchesMatrixFreeGmresInFewIterations) {
  auto problem = make_problem("obstacle_control", kObstacle);
  const Adjoint multigrid = kkt_vi_hypergradient(*problem, "");
  const Adjoint gmres = kkt_vi_hypergradient(*problem, "-alg_adjoint matrix_free");
  const double difference = relative_error(multigrid.grad, gmres.grad);
  std::printf("[free-set adjoint] multigrid %g iterations, matrix-free GMRES %g, relative "
              "difference %.2e, adjoint residual %.2e, asymmetry %.2e, D-gap %.2e\n",
              multigrid.record.get("ksp_iterations"), gmres.record.get("ksp_iterations"),
              difference, multigrid.record.get("adjoint_residual"),
              multigrid.record.get("free_set_asymmetry"), multigrid.gap);
  EXPECT_EQ(multigrid.record.get("ksp_converged"), 1.0);
  EXPECT_EQ(gmres.record.get("ksp_converged"), 1.0);
  EXPECT_LE(multigrid.record.get("ksp_iterations"), 15.0);
  EXPECT_LE(difference, 1e-9);
}

TEST(FreeSetAdjoint, PropertiesOfALargeRunHoldOnASmallGrid) {
  // What benchmarks/run-obstacle-sweep records at 10^7 unknowns, checked here at 1600.
  auto problem = make_problem("obstacle_control", kObstacle);
  const Adjoint run = kkt_vi_hypergradient(*problem, "");
  EXPECT_LE(run.gap, 1e-10);
  EXPECT_LE(run.record.get("adjoint_residual"), 1e-10);
  EXPECT_LE(run.record.get("free_set_asymmetry"), 1e-12);
  EXPECT_EQ(run.record.get("inner_converged"), 1.0);
}

TEST(FreeSetAdjoint, MatchesCentralDifferencesOfPhi) {
  auto problem = make_problem("obstacle_control", kObstacle);
  ScopedOptions scoped(std::string(kSnesVi) + " -validate_tol 1e-5");
  auto alg = algorithm_registry().at("kkt_vi").create(current_run());
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  alg->setup(*problem, x);
  HypergradientValidator validator(*problem, HypergradientValidation::Settings::from_options(true),
                                   1e-5, true);
  const HypergradientValidation check = validator.check(*alg, x);
  std::printf("[free-set adjoint] %s\n", check.summary().c_str());
  EXPECT_TRUE(check.applicable);
  EXPECT_TRUE(check.passed);
}

TEST(GridSequencing, ColdSnesViNeedsFewerFineNewtonStepsForTheSameHypergradient) {
  // 257^2 with two coarse levels (128^2, 63^2; 31^2 would be below the coarsest grid).
  auto problem = make_problem("obstacle_control", "-problem_grid 257");
  const Adjoint sequenced = kkt_vi_hypergradient(*problem, "");
  const Adjoint cold = kkt_vi_hypergradient(*problem, "-alg_grid_sequence false");
  const double difference = relative_error(sequenced.grad, cold.grad);
  std::printf("[grid sequencing] fine Newton steps %g (+ %g coarse) vs %g from psi; relative "
              "difference %.2e\n",
              sequenced.record.get("inner_iterations"),
              sequenced.record.get("inner_coarse_iterations"), cold.record.get("inner_iterations"),
              difference);
  EXPECT_EQ(sequenced.record.get("inner_converged"), 1.0);
  EXPECT_GT(sequenced.record.get("inner_coarse_iterations"), 0.0);
  EXPECT_EQ(sequenced.record.get("inner_coarse_converged"), 1.0);
  EXPECT_LT(3 * sequenced.record.get("inner_iterations"), cold.record.get("inner_iterations"));
  EXPECT_LE(difference, 1e-9);
}

} // namespace
} // namespace bilevel::test
