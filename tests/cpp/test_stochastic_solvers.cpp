// The stochastic solvers on a small finite-sum quadratic behave as their analyses say: the
// hypergradient norm ||grad Phi(x_k)|| (closed form, reported outside the step) shrinks, at the
// rate each method's theorem gives.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bilevel::test {
namespace {

const char* const kInstance = "-problem_n_inner 512 "
                              "-problem_n_outer 128 -problem_dim_inner 10 -problem_dim_outer 3 "
                              "-problem_mu 0.1 -seed 2";

/// ||grad Phi(x_k)|| after each of `steps` steps of `algorithm` under `options`.
std::vector<double> hypergradient_norms(const std::string& algorithm, const std::string& options,
                                        int steps) {
  ScopedOptions scoped(std::string(kInstance) + " " + options);
  AlgorithmRun run = start_run("finite_sum_quadratic", algorithm);
  std::vector<double> norms;
  Record record, reported;
  for (int k = 0; k < steps; ++k) {
    run.advance(1, record);
    reported.clear();
    run.algorithm->report(run.x, reported);
    norms.push_back(reported.get("hypergrad_norm"));
  }
  return norms;
}

TEST(Soba, DefaultStepsReduceTheHypergradient) {
  const std::vector<double> norms = hypergradient_norms("soba", "", 5000);
  EXPECT_LT(norms.back(), 0.1 * norms.front());
}

} // namespace
} // namespace bilevel::test
