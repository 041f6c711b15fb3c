// The FFO-layer paper at scale: both bound-constrained QP solvers (primal-dual active set, TAO)
// against the KKT conditions, the dense interior-point method (an independent solver) and each
// other, the ffoqp and kkt oracles of box_qp_hypergrad against each other and against central
// differences of phi(x) = f(x, y*(x)), a wrong active set being visibly wrong, and crossed bounds
// reported as such.
#include "test_support.hpp"

#include "bilevel/core/record.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/box_qp_bilevel.hpp"
#include "bilevel/qp/box_qp_solver.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

PetscInt free_count(const BoxQp& qp, Vec y, double tau = 1e-8) {
  const OwnedIS free = free_rows(qp, y, tau);
  PetscInt n = 0;
  BB_PETSC(ISGetSize(free, &n));
  return n;
}

struct Instance {
  std::unique_ptr<Problem> problem;
  BoxQpBilevel& box;
  OwnedVec x, y, gradient;
  std::unique_ptr<BoxQpSolver> solver;
  Instance(const std::string& options, double rtol, const std::string& solver_name = "active_set")
      : problem(make_problem("box_qp_bilevel", options)),
        box(dynamic_cast<BoxQpBilevel&>(*problem)), x(problem->create_x()), y(problem->create_y()),
        gradient(problem->create_y()) {
    BoxQpSolverConfig config;
    config.solver = solver_name;
    config.active_set = {rtol, 100};
    config.tao = {TAOTRON, rtol, 10000};
    solver = make_box_qp_solver(config, problem->comm(), y, "test_");
    problem->initial_x(x);
    BB_PETSC(VecSet(y, 0.0));
  }
  /// y*(at) from the current y.
  BoxQpResult solve(Vec at) { return solver->solve(box.lower_box_qp(at), y, gradient); }
};

class BoxQpSolvers : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(BoxQp, BoxQpSolvers, ::testing::Values("active_set", "tao"));

TEST_P(BoxQpSolvers, SolutionSatisfiesKktAndMatchesInteriorPoint) {
  Instance c("-problem_ny 40 -problem_nx 4", 1e-12, GetParam());
  const BoxQpResult result = c.solve(c.x);
  ASSERT_EQ(result.status, BoxQpStatus::kConverged);
  EXPECT_LE(result.projected_gradient, 1e-9);
  const BoxQp qp = c.box.lower_box_qp(c.x);
  const PetscInt n_free = free_count(qp, c.y);
  EXPECT_GE(n_free, 8); // both kinds of rows exist
  EXPECT_LE(n_free, 32);
  // The same QP in the dense solver's form: min 1/2 y'Hy + (-q)'y, [-I; I] y <= [-lower; upper].
  const Eigen::Index n = 40;
  DenseQp dense;
  dense.Q.resize(n, n);
  OwnedVec unit = c.problem->create_y(), column = c.problem->create_y();
  for (Eigen::Index j = 0; j < n; ++j) {
    BB_PETSC(VecSet(unit, 0.0));
    BB_PETSC(VecSetValue(unit, static_cast<PetscInt>(j), 1.0, INSERT_VALUES));
    BB_PETSC(VecAssemblyBegin(unit));
    BB_PETSC(VecAssemblyEnd(unit));
    BB_PETSC(MatMult(qp.H, unit, column));
    dense.Q.col(j) = gather_to_all(column);
  }
  dense.q = -gather_to_all(qp.q);
  dense.G.resize(2 * n, n);
  dense.G << -Eigen::MatrixXd::Identity(n, n), Eigen::MatrixXd::Identity(n, n);
  dense.h.resize(2 * n);
  dense.h << -gather_to_all(qp.lower), gather_to_all(qp.upper);
  dense.A.resize(0, n);
  dense.b.resize(0);
  const QpSolution reference = InteriorPointQp({1e-13, 200}).solve(dense);
  ASSERT_EQ(reference.status, QpStatus::kSolved);
  EXPECT_LE((gather_to_all(c.y) - reference.y).lpNorm<Eigen::Infinity>(), 1e-8);
  OwnedVec lambda_l = c.problem->create_y(), lambda_u = c.problem->create_y();
  bound_multipliers(c.gradient, lambda_l, lambda_u);
  EXPECT_LE((gather_to_all(lambda_l) - reference.lambda.head(n)).lpNorm<Eigen::Infinity>(), 1e-7);
  EXPECT_LE((gather_to_all(lambda_u) - reference.lambda.tail(n)).lpNorm<Eigen::Infinity>(), 1e-7);
}

/// box_qp_hypergrad's estimate at x with `options`, and the record of the call.
OwnedVec hypergradient(Problem& problem, Vec x, const std::string& options, Record& record) {
  ScopedOptions scoped(options);
  auto alg = algorithm_registry().at("box_qp_hypergrad").create(current_run());
  OwnedVec grad = problem.create_x();
  alg->setup(problem, x);
  alg->hypergradient(x, grad, record);
  return grad;
}

TEST_P(BoxQpSolvers, AgreeWithEachOtherOnALargeInstance) {
  Instance mine("-problem_ny 3000", 1e-12, GetParam()), other("-problem_ny 3000", 1e-12, "tao");
  ASSERT_EQ(mine.solve(mine.x).status, BoxQpStatus::kConverged);
  ASSERT_EQ(other.solve(other.x).status, BoxQpStatus::kConverged);
  EXPECT_LE(relative_error(mine.y, other.y), 1e-10);
  // From the last solution (the warm start of box_qp_hypergrad's next outer iteration).
  BB_PETSC(VecScale(mine.x, 1.1));
  BB_PETSC(VecScale(other.x, 1.1));
  ASSERT_EQ(mine.solve(mine.x).status, BoxQpStatus::kConverged);
  ASSERT_EQ(other.solve(other.x).status, BoxQpStatus::kConverged);
  EXPECT_LE(relative_error(mine.y, other.y), 1e-10);
}

TEST_P(BoxQpSolvers, InnerSolvesReportWhetherTheyMetTheirTolerance) {
  const std::string solver = GetParam(), lower = " -alg_lower_solver " + solver;
  Instance c("-problem_ny 400", 1e-10);
  Record met, lower_short, krylov_short;
  (void)hypergradient(*c.problem, c.x, "-alg_oracle ffoqp" + lower, met);
  EXPECT_EQ(met.get(solver + "_converged"), 1.0);
  EXPECT_EQ(met.get("adjoint_ksp_converged"), 1.0);
  EXPECT_TRUE(met.failures().empty());
  // One iteration of either solver does not reach rtol 1e-10 from the cold start; a Krylov
  // method stopped at one iteration leaves the adjoint unsolved. Both are on the row and in its
  // failures.
  (void)hypergradient(*c.problem, c.x,
                      "-alg_oracle ffoqp" + lower + " -alg_" + solver + "_max_it 1", lower_short);
  EXPECT_EQ(lower_short.get(solver + "_converged"), 0.0);
  EXPECT_EQ(lower_short.get(solver + "_iterations"), 1.0);
  ASSERT_EQ(lower_short.failures().size(), 1u);
  EXPECT_EQ(lower_short.failures().front(), solver);
  for (const char* oracle : {"ffoqp", "kkt"}) {
    (void)hypergradient(*c.problem, c.x,
                        std::string("-alg_oracle ") + oracle + " -alg_" + oracle + "_ksp_max_it 1",
                        krylov_short);
    EXPECT_EQ(krylov_short.get("adjoint_ksp_converged"), 0.0) << oracle;
    EXPECT_EQ(krylov_short.failures().back(), "adjoint_ksp") << oracle;
    krylov_short.clear();
  }
}

TEST(BoxQp, KktAndFfoqpAgreeAndMatchCentralDifferences) {
  Instance c("-problem_ny 2000", 1e-13);
  Record kkt_record, ffoqp_record;
  const OwnedVec kkt =
      hypergradient(*c.problem, c.x, "-alg_oracle kkt -alg_active_set_rtol 1e-13", kkt_record);
  const OwnedVec ffoqp =
      hypergradient(*c.problem, c.x, "-alg_oracle ffoqp -alg_active_set_rtol 1e-13", ffoqp_record);
  ASSERT_EQ(kkt_record.get("adjoint_ksp_converged"), 1.0);
  ASSERT_EQ(ffoqp_record.get("adjoint_ksp_converged"), 1.0);
  const double active = ffoqp_record.get("active_rows");
  EXPECT_GE(active, 200.0); // a good fraction of the 2000 rows is on a bound
  EXPECT_LE(active, 1800.0);
  EXPECT_LE(relative_error(ffoqp, kkt), 1e-8);

  // phi along a random direction; the active set must be the same at both points (else phi
  // has a kink inside the step and the difference is not a derivative).
  ASSERT_EQ(c.solve(c.x).status, BoxQpStatus::kConverged);
  const PetscInt n_free = free_count(c.box.lower_box_qp(c.x), c.y);
  OwnedVec direction = c.problem->create_x();
  fill_random(direction, 31);
  const double h = 1e-5;
  auto phi = [&](double s) {
    OwnedVec at = copy_of(c.x);
    BB_PETSC(VecAXPY(at, s, direction));
    EXPECT_EQ(c.solve(at).status, BoxQpStatus::kConverged);
    EXPECT_EQ(free_count(c.box.lower_box_qp(at), c.y), n_free);
    return c.problem->upper_value(at, c.y);
  };
  const double fd = (phi(h) - phi(-h)) / (2 * h);
  EXPECT_NEAR(dot(ffoqp, direction), fd, 1e-6 * std::abs(fd));
  EXPECT_NEAR(dot(kkt, direction), fd, 1e-6 * std::abs(fd));
  EXPECT_GT(std::abs(fd), 1e-3); // not vacuous
}

TEST(BoxQp, WrongActiveSetIsVisiblyWrong) {
  auto problem = make_problem("box_qp_bilevel", "-problem_ny 2000");
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  Record right, wrong;
  const OwnedVec good = hypergradient(*problem, x, "-alg_oracle ffoqp", right);
  // A slack threshold of 0.05 fixes free rows near a bound as if they were active.
  const OwnedVec bad = hypergradient(*problem, x, "-alg_oracle ffoqp -alg_active_tol 0.05", wrong);
  EXPECT_GT(wrong.get("active_rows"), right.get("active_rows"));
  EXPECT_GT(relative_error(bad, good), 1e-4);
}

TEST_P(BoxQpSolvers, CrossedBoundsAreReportedNotSolved) {
  Instance c("-problem_ny 50 -problem_lower 1 -problem_upper -1", 1e-10, GetParam());
  BB_PETSC(VecSet(c.y, 0.25));
  const BoxQpResult result = c.solve(c.x);
  EXPECT_EQ(result.status, BoxQpStatus::kInfeasibleBounds);
  PetscReal norm = 0;
  BB_PETSC(VecNorm(c.y, NORM_INFINITY, &norm));
  EXPECT_EQ(norm, 0.25); // y untouched and finite
  Record record;
  EXPECT_THROW(hypergradient(*c.problem, c.x, "", record), InputError);
}

} // namespace
} // namespace bilevel::test
