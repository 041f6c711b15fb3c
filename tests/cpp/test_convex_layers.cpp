// Layers with convex quadratic constraints (FFOLayer's general convex layer): the interior point
// against closed forms (projection onto a ball) and known KKT points, and the three oracles:
// kkt (the full nonlinear KKT system) against the closed-form gradient of the ball projection
// and against central differences of the solution map, ffoqp against kkt, and ffo (ffocp)
// against kkt: an error of order delta (log-log slope 1) and a cosine above 0.999 at the
// default delta.
#include "qp_test_support.hpp"
#include "test_support.hpp"

#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

/// min 1/2 ||y||^2 - q'y s.t. 1/2 ||y - c||^2 <= rho^2 / 2: the projection of q onto the ball.
DenseQp ball_layer(const Vector& q, const Vector& c, double rho) {
  const Eigen::Index n = q.size();
  DenseQp qp;
  qp.Q = Matrix::Identity(n, n);
  qp.q = -q;
  qp.G.resize(0, n);
  qp.h.resize(0);
  qp.A.resize(0, n);
  qp.b.resize(0);
  qp.quadratic.push_back({Matrix::Identity(n, n), -c, 0.5 * (rho * rho - c.squaredNorm())});
  return qp;
}

/// A layer built around a known KKT point, as known_qp: m linear rows (the first `active` tight),
/// two quadratic constraints (the first tight, multiplier 1.5; the second slack 0.3), p
/// equalities.
struct KnownLayer {
  DenseQp qp;
  Vector y, lambda;
};
KnownLayer known_layer(std::uint64_t seed, Eigen::Index n, Eigen::Index m, Eigen::Index p,
                       Eigen::Index active) {
  KnownQp base = known_qp(seed, n, m, p, active, /*degenerate=*/false);
  const CounterRng rng(seed, 11);
  KnownLayer k{base.qp, base.y, Vector::Zero(m + 2)};
  k.lambda.head(m) = base.lambda;
  k.lambda[m] = 1.5;
  for (int c = 0; c < 2; ++c) {
    const std::uint64_t offset = static_cast<std::uint64_t>(c) << 24;
    const Matrix M = random_matrix(rng, n, n, offset);
    QuadraticConstraint row{M * M.transpose() / static_cast<double>(n),
                            random_matrix(rng, n, 1, offset + (1u << 20)), 0.0};
    row.s = row.value(k.y) + (c == 0 ? 0.0 : 0.3);
    k.qp.quadratic.push_back(row);
  }
  // q restores stationarity with the quadratic rows' multipliers added.
  k.qp.q -= k.qp.inequality_jacobian(k.y).bottomRows(2).transpose() * k.lambda.tail(2);
  return k;
}

QpLayerGradient layer_gradient(const std::string& oracle, const DenseQp& qp, const Vector& v,
                               double delta = QpLayerOracleConfig{}.delta) {
  QpLayerOracleConfig config;
  config.oracle = oracle;
  config.delta = delta;
  const QpSolution solution = InteriorPointQp({1e-13, 100}).solve(qp);
  EXPECT_EQ(solution.status, QpStatus::kSolved);
  return make_qp_layer_oracle(config)->backward(qp, solution, v, /*matrices=*/true);
}

Vector flatten(const QpLayerGradient& g) {
  Vector out(g.dq.size() + g.dh.size() + g.db.size() + g.dr.size() + g.ds.size() + g.dG.size() +
             g.dA.size());
  out << g.dq, g.dh, g.db, g.dr.reshaped(), g.ds, g.dG.reshaped(), g.dA.reshaped();
  return out;
}

TEST(InteriorPointQcqp, ProjectsOntoABall) {
  const CounterRng rng(5, 1);
  const Vector c = random_matrix(rng, 6, 1, 0);
  for (const double scale : {3.0, 0.2}) { // outside the ball (active), inside (inactive)
    const Vector q = c + scale * random_matrix(rng, 6, 1, 100).normalized();
    const QpSolution s = InteriorPointQp({}).solve(ball_layer(q, c, 1.0));
    ASSERT_EQ(s.status, QpStatus::kSolved);
    EXPECT_LT(s.iterations, 40);
    const Vector expected = c + (q - c) * std::min(1.0, 1.0 / (q - c).norm());
    EXPECT_LE((s.y - expected).lpNorm<Eigen::Infinity>(), 1e-9) << "scale " << scale;
    // Stationarity y - q + lambda (y - c) = 0 gives lambda = ||q - c|| / rho - 1 when active.
    EXPECT_NEAR(s.lambda[0], std::max(0.0, scale - 1.0), 1e-8);
  }
}

TEST(InteriorPointQcqp, FindsKnownKktPoints) {
  for (std::uint64_t seed : {41u, 42u, 43u}) {
    const KnownLayer k = known_layer(seed, 12, 16, 2, 4);
    const QpSolution s = InteriorPointQp({}).solve(k.qp);
    ASSERT_EQ(s.status, QpStatus::kSolved) << seed;
    EXPECT_LT(s.iterations, 50);
    EXPECT_LE(kkt_residuals(k.qp, s).max(), 1e-9);
    EXPECT_LE((s.y - k.y).lpNorm<Eigen::Infinity>(), 1e-7);
    EXPECT_LE((s.lambda - k.lambda).lpNorm<Eigen::Infinity>(), 1e-6);
  }
}

TEST(InteriorPointQcqp, ReportsAnEmptyFeasibleSet) {
  // A ball of radius 1 around 0 and the hyperplane sum y = 10 (distance 10 / sqrt 3) do not meet.
  DenseQp qp = ball_layer(Vector::Ones(3), Vector::Zero(3), 1.0);
  qp.A = Matrix::Ones(1, 3);
  qp.b = Vector::Constant(1, 10.0);
  const QpSolution s = InteriorPointQp({1e-11, 60}).solve(qp);
  EXPECT_NE(s.status, QpStatus::kSolved);
  EXPECT_TRUE(s.y.allFinite());
}

TEST(ConvexLayerOracles, KktMatchesTheBallProjectionsClosedForm) {
  // y* = c + rho u / ||u||, u = q - c: dy*/dq = (rho / ||u||)(I - u^ u^'), dy*/dc = I - dy*/dq;
  // the layer's data are q_layer = -q, r = -c, s = (rho^2 - ||c||^2) / 2.
  const CounterRng rng(8, 2);
  const Vector c = random_matrix(rng, 5, 1, 0), v = random_matrix(rng, 5, 1, 50);
  const Vector q = c + 2.5 * random_matrix(rng, 5, 1, 100).normalized();
  const QpLayerGradient g = layer_gradient("kkt", ball_layer(q, c, 1.0), v);
  const Vector u = (q - c).normalized();
  const Matrix jacobian_q = (Matrix::Identity(5, 5) - u * u.transpose()) / (q - c).norm();
  const Vector dl_dq = jacobian_q * v, dl_dc = v - dl_dq;
  EXPECT_LE((-g.dq - dl_dq).lpNorm<Eigen::Infinity>(), 1e-9);
  EXPECT_LE((-g.dr.row(0).transpose() - c * g.ds[0] - dl_dc).lpNorm<Eigen::Infinity>(), 1e-9);
}

TEST(ConvexLayerOracles, KktMatchesCentralDifferencesOfTheSolutionMap) {
  const KnownLayer k = known_layer(51, 10, 12, 2, 3);
  const CounterRng rng(52, 3);
  const Vector v = random_matrix(rng, 10, 1, 0);
  const QpLayerGradient grad = layer_gradient("kkt", k.qp, v);
  // One random direction per block of data; the derivative along it is <grad, direction>.
  const auto check = [&](const char* what, auto perturb, double predicted) {
    expect_layer_derivative(k.qp, v, what, perturb, predicted);
  };
  const Vector dq = random_matrix(rng, 10, 1, 100), dh = random_matrix(rng, 12, 1, 200),
               dr = random_matrix(rng, 10, 1, 300);
  check(
      "q", [&](DenseQp& qp, double t) { qp.q += t * dq; }, grad.dq.dot(dq));
  check(
      "h", [&](DenseQp& qp, double t) { qp.h += t * dh; }, grad.dh.dot(dh));
  check(
      "r", [&](DenseQp& qp, double t) { qp.quadratic[0].r += t * dr; }, grad.dr.row(0).dot(dr));
  check(
      "s", [&](DenseQp& qp, double t) { qp.quadratic[0].s += t; }, grad.ds[0]);
  // The slack quadratic row carries no gradient, the tight one does.
  EXPECT_LE(std::abs(grad.ds[1]), 1e-8);
  EXPECT_GT(std::abs(grad.ds[0]), 1e-3);
}

TEST(ConvexLayerOracles, FfoqpAgreesWithKktAndFfocpToOrderDelta) {
  for (std::uint64_t seed : {61u, 62u, 63u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const KnownLayer k = known_layer(seed, 14, 18, 3, 5);
    const Vector v = random_matrix(CounterRng(seed, 5), 14, 1, 0);
    const Vector kkt = flatten(layer_gradient("kkt", k.qp, v));
    EXPECT_LE((flatten(layer_gradient("ffoqp", k.qp, v)) - kkt).norm(), 1e-9 * kkt.norm());
    const Vector ffo = flatten(layer_gradient("ffo", k.qp, v));
    EXPECT_GT(ffo.dot(kkt) / (ffo.norm() * kkt.norm()), 0.999);
    // The error against delta: slope 1 (the y_delta in dl/dr) above the inner tolerance's floor.
    std::vector<double> log_delta, log_error;
    for (double e = -1.0; e >= -3.0 - 1e-9; e -= 0.5) {
      const double delta = std::pow(10.0, e);
      log_delta.push_back(std::log(delta));
      log_error.push_back(
          std::log((flatten(layer_gradient("ffo", k.qp, v, delta)) - kkt).norm() / kkt.norm()));
    }
    EXPECT_NEAR(least_squares_slope(log_delta, log_error), 1.0, 0.15);
  }
}

} // namespace
} // namespace bilevel::test
