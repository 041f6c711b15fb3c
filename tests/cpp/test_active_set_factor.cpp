// The active-set factor (Cholesky of Q, Schur complement on the active rows) that the interior
// point's polishing computes and ffoqp's backward reuses: the reduced KKT solve against a dense
// LU of the same matrix, the factor kept only for the rows it holds, and ffoqp's gradient with
// the forward's factor identical to one it factors itself, and to kkt's at tight tolerance.
#include "qp_test_support.hpp"
#include "test_support.hpp"

#include "bilevel/qp/active_set_factor.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

QpLayerGradient ffoqp_gradient(const DenseQp& qp, const QpSolution& solution, const Vector& v,
                               double active_tolerance = 1e-8) {
  QpLayerOracleConfig config;
  config.oracle = "ffoqp";
  config.active_tolerance = active_tolerance;
  return make_qp_layer_oracle(config)->backward(qp, solution, v, /*matrices=*/true);
}

double max_difference(const QpLayerGradient& a, const QpLayerGradient& b) {
  return std::max({(a.dq - b.dq).lpNorm<Eigen::Infinity>(), (a.dh - b.dh).lpNorm<Eigen::Infinity>(),
                   (a.db - b.db).lpNorm<Eigen::Infinity>(), (a.dG - b.dG).lpNorm<Eigen::Infinity>(),
                   (a.dA - b.dA).lpNorm<Eigen::Infinity>()});
}

TEST(ActiveSetFactor, SolvesTheReducedKktSystem) {
  const KnownQp k = known_qp(5, 30, 40, 4, 12, /*degenerate=*/false);
  const std::vector<Eigen::Index> rows = {0, 3, 7, 11, 20, 33};
  const ActiveSetFactor factor(k.qp.Q, k.qp.G, k.qp.A, rows);
  ASSERT_TRUE(factor.ok());
  const Eigen::Index n = 30, c = 6 + 4;
  Matrix C(c, n);
  for (std::size_t r = 0; r < rows.size(); ++r)
    C.row(static_cast<Eigen::Index>(r)) = k.qp.G.row(rows[r]);
  C.bottomRows(4) = k.qp.A;
  Matrix K = Matrix::Zero(n + c, n + c);
  K.topLeftCorner(n, n) = k.qp.Q;
  K.topRightCorner(n, c) = C.transpose();
  K.bottomLeftCorner(c, n) = C;
  const CounterRng rng(5, 11);
  const Vector f = random_matrix(rng, n, 1, 0), g = random_matrix(rng, c, 1, 100);
  Vector x, omega;
  factor.solve(f, g, x, omega);
  Vector rhs(n + c);
  rhs << f, g;
  const Vector expected = K.partialPivLu().solve(rhs);
  EXPECT_LE((x - expected.head(n)).lpNorm<Eigen::Infinity>(), 1e-10);
  EXPECT_LE((omega - expected.tail(c)).lpNorm<Eigen::Infinity>(), 1e-10);
}

// of_qp factors a diagonal Q (the layers' Q = I) by its square root instead of a dense Cholesky
// factor: the solves must agree with the dense factor's.
TEST(ActiveSetFactor, DiagonalQAgreesWithTheDenseFactor) {
  KnownQp k = known_qp(7, 30, 40, 4, 12, /*degenerate=*/false);
  const CounterRng rng(7, 3);
  k.qp.Q = (random_matrix(rng, 30, 1, 0).array().abs() + 0.5).matrix().asDiagonal();
  const std::vector<Eigen::Index> rows = {1, 4, 9, 17, 25, 38};
  const ActiveSetFactor diagonal = ActiveSetFactor::of_qp(k.qp, rows, nullptr);
  const ActiveSetFactor dense(HessianFactor(Matrix(k.qp.Q)), k.qp.G, k.qp.A, rows);
  ASSERT_TRUE(diagonal.ok());
  ASSERT_TRUE(dense.ok());
  const Vector f = random_matrix(rng, 30, 1, 1), g = random_matrix(rng, 10, 1, 2);
  Vector x_diagonal, omega_diagonal, x_dense, omega_dense;
  diagonal.solve(f, g, x_diagonal, omega_diagonal);
  dense.solve(f, g, x_dense, omega_dense);
  EXPECT_LE((x_diagonal - x_dense).norm(), 1e-12 * x_dense.norm());
  EXPECT_LE((omega_diagonal - omega_dense).norm(), 1e-12 * omega_dense.norm());
}

TEST(ActiveSetFactor, FfoqpReusesThePolishedFactorOnlyForItsRows) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const Eigen::Index n = 20 + static_cast<Eigen::Index>(4 * seed);
    const KnownQp k = known_qp(seed, n, 2 * n, static_cast<Eigen::Index>(seed % 4),
                               5 + static_cast<Eigen::Index>(seed), /*degenerate=*/false);
    const QpSolution solution = InteriorPointQp({1e-13, 100}).solve(k.qp);
    ASSERT_EQ(solution.status, QpStatus::kSolved) << seed;
    // The polishing kept its factor, on the rows the backward takes as active.
    ASSERT_TRUE(solution.active_factor) << seed;
    EXPECT_EQ(solution.active_factor->rows(), active_set(k.qp, solution, 1e-8)) << seed;
    QpSolution unfactored = solution;
    unfactored.active_factor.reset();
    const Vector v = random_matrix(CounterRng(seed, 13), n, 1, 0);
    const QpLayerGradient reused = ffoqp_gradient(k.qp, solution, v);
    const QpLayerGradient fresh = ffoqp_gradient(k.qp, unfactored, v);
    QpLayerOracleConfig kkt;
    kkt.oracle = "kkt";
    const QpLayerGradient exact = make_qp_layer_oracle(kkt)->backward(k.qp, solution, v, true);
    const double scale =
        1.0 + exact.dq.lpNorm<Eigen::Infinity>() + exact.dh.lpNorm<Eigen::Infinity>();
    EXPECT_LE(max_difference(reused, fresh), 1e-12 * scale) << seed;
    EXPECT_LE(max_difference(reused, exact), 1e-9 * scale) << seed;
    // Another active tolerance takes in inactive rows (slack <= 1.5): the forward's factor does
    // not hold them, and the gradient must be that of the larger set, visibly different.
    const QpLayerGradient wider = ffoqp_gradient(k.qp, solution, v, 1.5);
    const QpLayerGradient wider_fresh = ffoqp_gradient(k.qp, unfactored, v, 1.5);
    EXPECT_LE(max_difference(wider, wider_fresh), 1e-12 * scale) << seed;
    EXPECT_GT(max_difference(wider, exact), 1e-4 * scale) << seed;
  }
}

} // namespace
} // namespace bilevel::test
