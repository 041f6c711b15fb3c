// The batch interior-point QP solver against QPs built around a known solution: y0 and
// multipliers chosen first (some active rows with zero multiplier: degenerate), q then set so
// that (y0, lambda0, nu0) satisfies the KKT conditions. Checks the KKT residuals, the distance to
// the known solution, duplicated rows (LICQ fails), and infeasible inputs (status, no NaN), with
// the Newton systems reduced to y and to the multipliers (MultiplierNewton) alike.
#include "qp_test_support.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/multiplier_newton.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using Reduction = InteriorPointQp::Config::Reduction;

InteriorPointQp solver_reducing_to(Reduction reduction) {
  InteriorPointQp::Config config;
  config.reduction = reduction;
  return InteriorPointQp(config);
}

const char* name_of(Reduction reduction) {
  return reduction == Reduction::kToY ? "reduced to y" : "reduced to the multipliers";
}

class BothReductions : public ::testing::TestWithParam<Reduction> {};

INSTANTIATE_TEST_SUITE_P(InteriorPointQp, BothReductions,
                         ::testing::Values(Reduction::kToY, Reduction::kToMultipliers),
                         [](const auto& param_info) {
                           return param_info.param == Reduction::kToY
                                      ? std::string("ToY")
                                      : std::string("ToMultipliers");
                         });

TEST_P(BothReductions, SolvesRandomQpsToKktTolerance) {
  const InteriorPointQp solver = solver_reducing_to(GetParam());
  struct Size {
    Eigen::Index n, m, p, active;
  };
  for (const bool degenerate : {false, true})
    for (const Size size : {Size{5, 10, 1, 3}, Size{20, 40, 5, 9}, Size{60, 120, 10, 30},
                            Size{30, 30, 0, 12}, Size{25, 0, 6, 0}}) {
      std::vector<DenseQp> batch;
      std::vector<KnownQp> known;
      for (std::uint64_t sample = 0; sample < 4; ++sample) {
        known.push_back(known_qp(100 * static_cast<std::uint64_t>(size.n) + sample, size.n, size.m,
                                 size.p, size.active, degenerate));
        batch.push_back(known.back().qp);
      }
      const auto solutions = solver.solve_batch(batch);
      for (std::size_t s = 0; s < batch.size(); ++s) {
        SCOPED_TRACE("n = " + std::to_string(size.n) + ", sample " + std::to_string(s) +
                     (degenerate ? ", degenerate, " : ", ") + name_of(GetParam()));
        EXPECT_EQ(solutions[s].status, QpStatus::kSolved);
        EXPECT_LE(kkt_residuals(batch[s], solutions[s]).max(), 1e-9);
        EXPECT_LT(solutions[s].iterations, 40);
        const auto active = active_by_slack(batch[s], solutions[s].y, 1e-8);
        if (!degenerate) {
          EXPECT_LE((solutions[s].y - known[s].y).lpNorm<Eigen::Infinity>(), 1e-7);
          EXPECT_LE((solutions[s].lambda - known[s].lambda).lpNorm<Eigen::Infinity>(), 1e-6);
          EXPECT_EQ(static_cast<Eigen::Index>(active.size()), size.active);
        } else {
          // A weakly active row (zero multiplier, zero slack) has slack and multiplier both of
          // order sqrt(complementarity) on the central path, so the primal error is of that
          // order, not of the residuals', and the slack rule may leave such a row out.
          EXPECT_LE((solutions[s].y - known[s].y).lpNorm<Eigen::Infinity>(), 1e-4);
          EXPECT_LE(static_cast<Eigen::Index>(active.size()), size.active);
          EXPECT_GE(static_cast<Eigen::Index>(active.size()), size.active - (size.active + 1) / 3);
        }
      }
    }
}

TEST_P(BothReductions, DuplicatedRowsStillConverge) {
  // LICQ fails (every active row appears twice): multipliers are not unique, the primal is.
  KnownQp k = known_qp(11, 15, 20, 2, 6, false);
  Matrix G(40, 15);
  G << k.qp.G, k.qp.G;
  Vector h(40);
  h << k.qp.h, k.qp.h;
  k.qp.G = G;
  k.qp.h = h;
  const QpSolution solution = solver_reducing_to(GetParam()).solve(k.qp);
  EXPECT_EQ(solution.status, QpStatus::kSolved);
  EXPECT_LE(kkt_residuals(k.qp, solution).max(), 1e-9);
  EXPECT_LE((solution.y - k.y).lpNorm<Eigen::Infinity>(), 1e-6);
}

TEST(InteriorPointQp, ReductionsAgreeOnADenseLayer) {
  // The dense layers' shape (Q = I, as many inequalities as variables, a quarter of them active),
  // with equalities: the two reductions take the same iterates up to rounding, so the solutions
  // agree to the tolerance and the polished ones (same active set) far below it.
  KnownQp k = known_qp(15, 80, 80, 4, 20, false);
  k.qp.q += k.qp.Q * k.y - k.y; // Q = I with the same known solution
  k.qp.Q = Matrix::Identity(80, 80);
  const QpSolution to_y = solver_reducing_to(Reduction::kToY).solve(k.qp);
  const QpSolution to_multipliers = solver_reducing_to(Reduction::kToMultipliers).solve(k.qp);
  ASSERT_EQ(to_y.status, QpStatus::kSolved);
  ASSERT_EQ(to_multipliers.status, QpStatus::kSolved);
  EXPECT_EQ(to_y.iterations, to_multipliers.iterations);
  EXPECT_LE((to_y.y - to_multipliers.y).lpNorm<Eigen::Infinity>(), 1e-12);
  EXPECT_LE((to_y.lambda - to_multipliers.lambda).lpNorm<Eigen::Infinity>(), 1e-11);
  EXPECT_LE((to_y.nu - to_multipliers.nu).lpNorm<Eigen::Infinity>(), 1e-11);
  EXPECT_LE((to_multipliers.y - k.y).lpNorm<Eigen::Infinity>(), 1e-9);
  // The default takes the multipliers here (1/4 of the flops per Newton matrix) and y where the
  // rows far outnumber the variables.
  EXPECT_TRUE(InteriorPointQp({}).reduces_to_multipliers(k.qp));
  EXPECT_TRUE(MultiplierNewton::cheaper(1000, 1000, 0, true));
  EXPECT_FALSE(MultiplierNewton::cheaper(10, 1000, 0, true));
  EXPECT_FALSE(solver_reducing_to(Reduction::kToY).reduces_to_multipliers(k.qp));
}

TEST(InteriorPointQp, ReductionIsAnOption) {
  // -alg_qp_reduction reaches the solver (a CLI run cannot tell: the polished solutions of the
  // two reductions are equal to the last bit).
  const KnownQp k = known_qp(17, 10, 400, 0, 4, false); // y by default: m far above n
  for (const auto& [text, multipliers] :
       {std::pair{"auto", false}, std::pair{"y", false}, std::pair{"multipliers", true}}) {
    ScopedOptions scoped(std::string("-alg_qp_reduction ") + text);
    EXPECT_EQ(
        InteriorPointQp(InteriorPointQp::Config::from_options("alg_")).reduces_to_multipliers(k.qp),
        multipliers)
        << text;
  }
}

TEST(InteriorPointQp, SemidefiniteQKeepsTheReductionToY) {
  // Q = 0 (an LP): Q^{-1} does not exist, so even a forced reduction to the multipliers falls
  // back to y, and the LP is still solved.
  KnownQp k = known_qp(16, 6, 12, 0, 6, false);
  k.qp.q += k.qp.Q * k.y;
  k.qp.Q.setZero();
  const InteriorPointQp forced = solver_reducing_to(Reduction::kToMultipliers);
  EXPECT_FALSE(forced.reduces_to_multipliers(k.qp));
  const QpSolution solution = forced.solve(k.qp);
  EXPECT_EQ(solution.status, QpStatus::kSolved);
  EXPECT_LE(kkt_residuals(k.qp, solution).max(), 1e-9);
}

TEST(InteriorPointQp, ReportsInfeasibleInequalities) {
  // y_0 <= -1 and -y_0 <= -1 have no common point.
  KnownQp k = known_qp(12, 6, 8, 1, 2, false);
  k.qp.G.row(0) = Vector::Unit(6, 0);
  k.qp.G.row(1) = -Vector::Unit(6, 0);
  k.qp.h[0] = -1.0;
  k.qp.h[1] = -1.0;
  const QpSolution solution = InteriorPointQp({}).solve(k.qp);
  EXPECT_EQ(solution.status, QpStatus::kInfeasible);
  EXPECT_TRUE(solution.y.allFinite() && solution.lambda.allFinite() && solution.nu.allFinite());
}

TEST(InteriorPointQp, ReportsInconsistentEqualities) {
  KnownQp k = known_qp(13, 6, 4, 2, 1, false);
  k.qp.A.row(1) = k.qp.A.row(0);
  k.qp.b[1] = k.qp.b[0] + 1.0;
  const QpSolution solution = InteriorPointQp({}).solve(k.qp);
  EXPECT_NE(solution.status, QpStatus::kSolved);
  EXPECT_TRUE(solution.y.allFinite() && solution.lambda.allFinite() && solution.nu.allFinite());
}

TEST(InteriorPointQp, RejectsMismatchedDimensions) {
  KnownQp k = known_qp(14, 6, 4, 1, 1, false);
  k.qp.h.conservativeResize(3);
  EXPECT_THROW(InteriorPointQp({}).solve(k.qp), InputError);
}

} // namespace
} // namespace bilevel::test
