// BDA (docs/algorithms.md §2.4): the reverse sweep against central differences of the unrolled
// Phi_T(x) = f(x, y_T(x)) (cold start, so y_T depends on x only through the T aggregated steps),
// on a smooth unconstrained instance (toy_sc, non-quadratic f: exercises the differenced upper
// Hessian products) and on boxed ones (the projection's Jacobian); and convergence on
// Liu et al.'s Example 5.3, the instance BDA was designed for (phi = (x - 1)^2, x* = 1).
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

struct BdaCase {
  const char* problem;
  const char* options;
  double x_offset;
};

void PrintTo(const BdaCase& c, std::ostream* os) {
  *os << c.problem;
}

class BdaGradient : public ::testing::TestWithParam<BdaCase> {};

/// Phi_T at x and, if `grad` is given, BDA's estimate of its gradient.
double unrolled_phi(Problem& problem, Vec x, Vec grad) {
  auto bda = algorithm_registry().at("bda").create(current_run());
  bda->setup(problem, x);
  OwnedVec g = duplicate(x);
  Record record;
  bda->hypergradient(x, g, record);
  if (grad)
    BB_PETSC(VecCopy(g, grad));
  return problem.upper_value(x, bda->lower_iterate());
}

TEST_P(BdaGradient, MatchesDifferencesOfTheUnrolledPhi) {
  const BdaCase& c = GetParam();
  ScopedOptions scoped(std::string(c.options) + " -alg_warm_start 0 -alg_inner_iters 15");
  auto problem = problem_registry().at(c.problem).create(current_run());
  OwnedVec x = problem->create_x(), dx = problem->create_x(), grad = problem->create_x();
  fill_random(x, 21, 0.5, c.x_offset);
  fill_random(dx, 22);
  (void)unrolled_phi(*problem, x, grad);
  constexpr double h = 1e-5;
  OwnedVec xp = copy_of(x), xm = copy_of(x);
  BB_PETSC(VecAXPY(xp, h, dx));
  BB_PETSC(VecAXPY(xm, -h, dx));
  const double fd =
      (unrolled_phi(*problem, xp, nullptr) - unrolled_phi(*problem, xm, nullptr)) / (2 * h);
  const double analytic = dot(grad, dx);
  EXPECT_LE(std::abs(analytic - fd), 1e-6 * std::max(1.0, std::abs(fd)))
      << "BDA " << analytic << " vs finite difference " << fd;
}

INSTANTIATE_TEST_SUITE_P(
    Instances, BdaGradient,
    ::testing::Values(BdaCase{"toy_sc", "", 0.0}, BdaCase{"hard_liu", "-alg_inner_eta 0.2", 0.0},
                      // x far from 0 keeps u_t off the box's kinks (the map is smooth there).
                      BdaCase{"hard_discontinuous", "-alg_inner_eta 0.1", 2.0},
                      BdaCase{"hard_nonsmooth", "-alg_inner_eta 0.1", 2.0}));

TEST(Bda, ConvergesOnLiu) {
  ScopedOptions scoped("-problem_x0 -1 -alg_inner_iters 20 -alg_inner_eta 0.2 -alg_step 0.1");
  AlgorithmRun run = start_run("hard_liu", "bda");
  Record record;
  run.advance(200, record);
  EXPECT_NEAR(gather_to_all(run.x)[0], 1.0, 1e-6); // observed: 1 to 1e-15
}

} // namespace
} // namespace bilevel::test
