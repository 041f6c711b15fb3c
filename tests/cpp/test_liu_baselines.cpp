// The IGFM paper's claim that AID and ITD fail on Liu et al.'s instance (hard_liu, Example 5.3:
// phi = (x - 1)^2, x* = 1, grad^2_yy g = diag(2, 0) singular), as measured here and explained:
//  - ITD: the unrolled steps move y1 to x but never y2 (g does not depend on it), so the
//    reverse sweep differentiates f(x, (x, y2_0)) = (x - y2_0)^2 + (x - 1)^2 with y2_0 = 0: a
//    wrong "hypergradient" 4x - 2 that vanishes at x = 1/2. ITD converges there, stalls with a
//    near-zero gradient, phi = 1/4.
//  - AID: CG on the singular Hessian with the inconsistent right-hand side (the y2 part of
//    grad_y f is nonzero) does not converge, and the returned v makes the hypergradient
//    explode: the run diverges within a few outer steps.
// (BDA, whose inner steps also descend f, reaches x* here: test_bda.cpp.)
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

struct Outcome {
  double x;
  Record last, first;
};

Outcome run(const std::string& algorithm_name, int iters) {
  ScopedOptions scoped("-problem_x0 -1 -alg_step 0.1 -alg_inner_iters 10");
  AlgorithmRun started = start_run("hard_liu", algorithm_name);
  Outcome out{};
  started.advance(1, out.first);
  out.last = out.first;
  started.advance(iters - 1, out.last);
  out.x = gather_to_all(started.x)[0];
  return out;
}

TEST(LiuBaselines, ItdStallsAtOneHalf) {
  const Outcome o = run("itd", 60);
  // Contraction 1 - 0.1 * 4 = 0.6 per step from |x0 - 1/2| = 1.5: 1.5 * 0.6^60 ~ 1e-13.
  EXPECT_NEAR(o.x, 0.5, 1e-9);
  EXPECT_LE(o.last.get("hypergrad_norm"), 1e-9);  // it believes it is stationary
  EXPECT_NEAR((o.x - 1) * (o.x - 1), 0.25, 1e-8); // phi there, vs phi* = 0
}

TEST(LiuBaselines, AidDivergesOnTheSingularHessian) {
  const Outcome o = run("aid", 3);
  EXPECT_EQ(o.first.get("ksp_converged"), 0.0);
  // Measured: 7 at the first step, ~1e15 at the second, 1e29 at the third.
  EXPECT_GT(o.last.get("hypergrad_norm"), 1e10);
  EXPECT_GT(std::abs(o.x - 1.0), 1e5);
}

} // namespace
} // namespace bilevel::test
