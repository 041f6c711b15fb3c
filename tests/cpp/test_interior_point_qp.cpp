// The batch interior-point QP solver against QPs built around a known solution: y0 and
// multipliers chosen first (some active rows with zero multiplier: degenerate), q then set so
// that (y0, lambda0, nu0) satisfies the KKT conditions. Checks the KKT residuals, the distance to
// the known solution, duplicated rows (LICQ fails), and infeasible inputs (status, no NaN).
#include "qp_test_support.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

TEST(InteriorPointQp, SolvesRandomQpsToKktTolerance) {
  const InteriorPointQp solver({});
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
                     (degenerate ? ", degenerate" : ""));
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

TEST(InteriorPointQp, DuplicatedRowsStillConverge) {
  // LICQ fails (every active row appears twice): multipliers are not unique, the primal is.
  KnownQp k = known_qp(11, 15, 20, 2, 6, false);
  Matrix G(40, 15);
  G << k.qp.G, k.qp.G;
  Vector h(40);
  h << k.qp.h, k.qp.h;
  k.qp.G = G;
  k.qp.h = h;
  const QpSolution solution = InteriorPointQp({}).solve(k.qp);
  EXPECT_EQ(solution.status, QpStatus::kSolved);
  EXPECT_LE(kkt_residuals(k.qp, solution).max(), 1e-9);
  EXPECT_LE((solution.y - k.y).lpNorm<Eigen::Infinity>(), 1e-6);
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
