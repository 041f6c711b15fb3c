// The FFO-layer paper's hypergradient oracles. On QP layers with a known solution: kkt's gradients
// with respect to q, h, b, G, A against central differences of the interior-point solution map, and
// ffoqp and ffo against kkt. On qp_bilevel: kkt and ffoqp against the closed form (computed by a
// different method: a Goldfarb-Idnani projection), and ffo's error against delta: a log-log
// slope of 1 over two decades, and a floor set by the inner tolerance.
#include "qp_test_support.hpp"
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

QpLayerGradient layer_gradient(const std::string& oracle, const DenseQp& qp, const Vector& v) {
  QpLayerOracleConfig config;
  config.oracle = oracle;
  // Tighter than the default: kkt and ffoqp differ by the solver's residuals (multipliers of
  // inactive rows, slacks of active ones).
  const QpSolution solution = InteriorPointQp({1e-13, 100}).solve(qp);
  return make_qp_layer_oracle(config)->backward(qp, solution, v, /*matrices=*/true);
}

double max_difference(const QpLayerGradient& a, const QpLayerGradient& b) {
  return std::max({(a.dq - b.dq).lpNorm<Eigen::Infinity>(), (a.dh - b.dh).lpNorm<Eigen::Infinity>(),
                   (a.db - b.db).lpNorm<Eigen::Infinity>(), (a.dG - b.dG).lpNorm<Eigen::Infinity>(),
                   (a.dA - b.dA).lpNorm<Eigen::Infinity>()});
}

TEST(QpLayerOracles, KktMatchesCentralDifferencesOfTheSolutionMap) {
  const KnownQp k = known_qp(21, 12, 18, 3, 5, /*degenerate=*/false);
  const CounterRng rng(99, 3);
  const Vector v = random_matrix(rng, 12, 1, 0); // l(y*) = v'y*
  const QpLayerGradient grad = layer_gradient("kkt", k.qp, v);
  // One random direction per block of data; the derivative along it is <grad, direction>.
  const auto check = [&](const char* what, auto perturb, double predicted) {
    expect_layer_derivative(k.qp, v, what, perturb, predicted);
  };
  const Vector dq = random_matrix(rng, 12, 1, 100), dh = random_matrix(rng, 18, 1, 200),
               db = random_matrix(rng, 3, 1, 300);
  const Matrix dG = random_matrix(rng, 18, 12, 400), dA = random_matrix(rng, 3, 12, 800);
  check(
      "q", [&](DenseQp& qp, double t) { qp.q += t * dq; }, grad.dq.dot(dq));
  check(
      "h", [&](DenseQp& qp, double t) { qp.h += t * dh; }, grad.dh.dot(dh));
  check(
      "b", [&](DenseQp& qp, double t) { qp.b += t * db; }, grad.db.dot(db));
  check(
      "G", [&](DenseQp& qp, double t) { qp.G += t * dG; }, (grad.dG.array() * dG.array()).sum());
  check(
      "A", [&](DenseQp& qp, double t) { qp.A += t * dA; }, (grad.dA.array() * dA.array()).sum());
  // The check can fail: the inactive rows carry no gradient, the active ones do.
  EXPECT_LE(grad.dh.tail(13).lpNorm<Eigen::Infinity>(), 1e-8);
  EXPECT_GT(grad.dh.head(5).lpNorm<Eigen::Infinity>(), 1e-3);
}

TEST(QpLayerOracles, EqualityOnlyLayerIsOneSolveEachWay) {
  // FFOLayer's ffoqp_eq: with no inequality the interior point's starting solve is the KKT
  // solve (no iteration), and ffoqp's backward is one reduced solve, which must be the
  // implicit derivative [Q A'; A 0]^{-1} applied to (-dl/dy, 0).
  const KnownQp k = known_qp(71, 15, 0, 5, 0, /*degenerate=*/false);
  const QpSolution solution = InteriorPointQp({}).solve(k.qp);
  EXPECT_EQ(solution.status, QpStatus::kSolved);
  EXPECT_EQ(solution.iterations, 0);
  EXPECT_LE((solution.y - k.y).lpNorm<Eigen::Infinity>(), 1e-10);
  const Vector v = random_matrix(CounterRng(72, 1), 15, 1, 0);
  Matrix K = Matrix::Zero(20, 20);
  K.topLeftCorner(15, 15) = k.qp.Q;
  K.block(15, 0, 5, 15) = k.qp.A;
  K.block(0, 15, 15, 5) = k.qp.A.transpose();
  Vector rhs = Vector::Zero(20);
  rhs.head(15) = -v;
  const Vector adjoint = K.partialPivLu().solve(rhs);
  QpLayerOracleConfig config; // ffoqp
  const QpLayerGradient g =
      make_qp_layer_oracle(config)->backward(k.qp, solution, v, /*matrices=*/false);
  EXPECT_LE((g.dq - adjoint.head(15)).lpNorm<Eigen::Infinity>(), 1e-10);
  EXPECT_LE((g.db + adjoint.tail(5)).lpNorm<Eigen::Infinity>(), 1e-10);
}

TEST(QpLayerOracles, FfoqpAndFfoAgreeWithKkt) {
  for (std::uint64_t seed : {31u, 32u, 33u}) {
    const KnownQp k = known_qp(seed, 20, 30, 4, 8, /*degenerate=*/false);
    const Vector v = random_matrix(CounterRng(seed, 5), 20, 1, 0);
    const QpLayerGradient kkt = layer_gradient("kkt", k.qp, v);
    const double scale = kkt.dG.lpNorm<Eigen::Infinity>();
    EXPECT_LE(max_difference(layer_gradient("ffoqp", k.qp, v), kkt), 1e-9 * scale);
    // ffo: finite differences with delta = 1e-6 at inner tolerance 1e-12: an error of about
    // tolerance / (delta mu(Q)) = 1e-5 (mu(Q) >= 0.1), plus the O(delta) term of dG, dA.
    EXPECT_LE(max_difference(layer_gradient("ffo", k.qp, v), kkt), 1e-4 * scale);
  }
}

TEST(QpLayerOracles, KktStaysFiniteOnDegenerateLayers) {
  // Weakly active rows (zero multiplier at zero slack): the interior point's solution must not be
  // polished into one whose multiplier and slack are both round-off, which makes kkt's matrix
  // singular (NaN on 2 of these 40 layers when it was).
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const Eigen::Index n = 5 + static_cast<Eigen::Index>(seed % 50);
    const KnownQp k = known_qp(seed, n, 2 * n - 4, static_cast<Eigen::Index>(seed % 5),
                               3 + static_cast<Eigen::Index>(seed % 20), /*degenerate=*/true);
    const QpSolution solution = InteriorPointQp(InteriorPointQp::Config{}).solve(k.qp);
    ASSERT_EQ(solution.status, QpStatus::kSolved) << seed;
    QpLayerOracleConfig config;
    config.oracle = "kkt";
    const QpLayerGradient grad = make_qp_layer_oracle(config)->backward(
        k.qp, solution, random_matrix(CounterRng(seed, 5), n, 1, 0), /*matrices=*/true);
    EXPECT_TRUE(grad.dq.allFinite() && grad.dh.allFinite() && grad.dG.allFinite()) << seed;
    EXPECT_LE(grad.dq.norm() + grad.dh.norm(), 1e3) << seed;
  }
}

/// The algorithm qp_hypergrad's estimate at qp_bilevel's initial x against the closed form.
struct BilevelCase {
  std::unique_ptr<Problem> problem =
      make_problem("qp_bilevel", "-problem_nx 6 -problem_ny 30 -problem_ineq 40 -problem_eq 3");
  double error(const std::string& options, Record* out = nullptr) {
    return hypergradient_error(*problem, "qp_hypergrad", options, out);
  }
};

TEST(QpHypergrad, KktAndFfoqpMatchTheClosedForm) {
  BilevelCase c;
  Record record;
  EXPECT_LE(c.error("-alg_oracle kkt", &record), 1e-9);
  // The instance exercises the active set: some rows bind, not all.
  EXPECT_GE(record.get("active_rows"), 5.0);
  EXPECT_LE(record.get("active_rows"), 27.0);
  EXPECT_LE(c.error("-alg_oracle ffoqp"), 1e-9);
  // A wrongly identified active set (a slack threshold that takes in inactive rows): visibly
  // wrong.
  Record wrong;
  EXPECT_GT(c.error("-alg_oracle ffoqp -alg_active_tol 1.5", &wrong), 1e-4);
  EXPECT_GT(wrong.get("active_rows"), record.get("active_rows"));
}

TEST(QpHypergrad, InnerSolvesReportWhetherTheyMetTheirTolerance) {
  BilevelCase c;
  Record met, qp_short, ffo_short;
  (void)c.error("-alg_oracle ffo", &met);
  EXPECT_EQ(met.get("qp_converged"), 1.0);
  EXPECT_EQ(met.get("ffo_inner_converged"), 1.0);
  EXPECT_TRUE(met.failures().empty());
  // Two interior-point iterations, or ten descent steps on the ghost problem, miss their
  // tolerances: the row says which.
  (void)c.error("-alg_oracle kkt -alg_qp_max_it 2", &qp_short);
  EXPECT_EQ(qp_short.get("qp_converged"), 0.0);
  EXPECT_EQ(qp_short.failures(), std::vector<std::string>{"qp"});
  (void)c.error("-alg_oracle ffo -alg_ffo_max_it 10", &ffo_short);
  EXPECT_EQ(ffo_short.get("qp_converged"), 1.0);
  EXPECT_EQ(ffo_short.get("ffo_inner_converged"), 0.0);
  EXPECT_EQ(ffo_short.failures(), std::vector<std::string>{"ffo_inner"});
}

TEST(QpHypergrad, FfoErrorIsFirstOrderInDelta) {
  BilevelCase c;
  std::vector<double> log_delta, log_error;
  for (double e = -1.0; e >= -3.0 - 1e-9; e -= 0.5) {
    const double delta = std::pow(10.0, e);
    const double error =
        c.error("-alg_oracle ffo -alg_ffo_tol 1e-13 -alg_delta " + std::to_string(delta));
    log_delta.push_back(std::log(delta));
    log_error.push_back(std::log(error));
  }
  const double slope = least_squares_slope(log_delta, log_error);
  EXPECT_GE(slope, 0.85);
  EXPECT_LE(slope, 1.15);
  // Below the fitted range the inner tolerance takes over: error ~ tolerance / delta.
  const double floor_error = c.error("-alg_oracle ffo -alg_ffo_tol 1e-7 -alg_delta 1e-6");
  EXPECT_GT(floor_error, 10 * std::exp(log_error.back()));
}

} // namespace
} // namespace bilevel::test
