// aid_neumann against the closed-form hypergradient of `quadratic`: exact to 1e-8 with enough
// terms, visibly biased with few.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

constexpr const char* kQuadratic = "-problem_ny 200 -problem_nx 6 -problem_cond 8";

double aid_neumann_error(const std::string& options) {
  auto problem = make_problem("quadratic", kQuadratic);
  return hypergradient_error(*problem, "aid_neumann", options);
}

TEST(AidNeumann, MatchesClosedFormWithEnoughTerms) {
  EXPECT_LE(aid_neumann_error("-alg_inner_iters 2000 -alg_neumann_terms 400"), 1e-8);
}

TEST(AidNeumann, FewTermsAreVisiblyBiased) {
  // The same comparison must be able to fail: (1 - 1/8)^5 = 0.51 of the adjoint is missing.
  EXPECT_GT(aid_neumann_error("-alg_inner_iters 2000 -alg_neumann_terms 5"), 1e-2);
}

} // namespace
} // namespace bilevel::test
