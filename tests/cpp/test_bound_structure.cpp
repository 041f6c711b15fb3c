// The interior point's structured path (BoundStructure: Q diagonal, every inequality a scaled
// bound, so the Newton matrix is diagonal plus the equality rows) against its dense path: the
// detection, the bound-eliminating active-set factor against the dense one, and whole solves on
// random bound + equality QPs and sudoku_lp minibatches, which must agree to round-off in the
// solution, the status and the iteration count.
#include "qp_test_support.hpp"
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/qp/active_set_factor.hpp"
#include "bilevel/qp/bound_structure.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

double relative(const Vector& a, const Vector& b) {
  if (a.size() != b.size())
    return std::numeric_limits<double>::infinity();
  return a.size() ? (a - b).lpNorm<Eigen::Infinity>() / std::max(1.0, b.lpNorm<Eigen::Infinity>())
                  : 0.0;
}

/// min 1/2 y'Qy + q'y, Q diagonal, s.t. y >= 0, y_j <= 1 on every other variable, A y = b with
/// b = A y0 for an interior y0: a box QP with p equality rows.
DenseQp bound_qp(std::uint64_t seed, Eigen::Index n, Eigen::Index p) {
  const CounterRng rng(seed, 3);
  DenseQp qp;
  qp.Q = Matrix::Zero(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    qp.Q(j, j) = rng.uniform(static_cast<std::uint64_t>(j), 0.05, 2.0);
  qp.q = random_matrix(rng, n, 1, 1u << 20);
  const Eigen::Index upper = (n + 1) / 2;
  qp.G = Matrix::Zero(n + upper, n);
  qp.h = Vector::Zero(n + upper);
  for (Eigen::Index j = 0; j < n; ++j)
    qp.G(j, j) = -1.0;
  for (Eigen::Index r = 0; r < upper; ++r) {
    qp.G(n + r, 2 * r) = 1.0;
    qp.h[n + r] = 1.0;
  }
  qp.A = random_matrix(rng, p, n, 2u << 20);
  const Vector y0 = Vector::Constant(n, 0.5);
  qp.b = Vector::Zero(p);
  if (p > 0) // a 0-row A would reach BLAS dgemv with a leading dimension of 0, which it rejects
    qp.b = qp.A * y0;
  return qp;
}

void expect_paths_agree(const DenseQp& qp, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(BoundStructure::of(qp).has_value());
  const QpSolution fast = InteriorPointQp({1e-11, 100, true}).solve(qp);
  const QpSolution dense = InteriorPointQp({1e-11, 100, false}).solve(qp);
  EXPECT_EQ(fast.status, QpStatus::kSolved);
  EXPECT_EQ(fast.status, dense.status);
  EXPECT_EQ(fast.iterations, dense.iterations);
  EXPECT_LE(relative(fast.y, dense.y), 1e-10);
  EXPECT_LE(relative(fast.lambda, dense.lambda), 1e-10);
  EXPECT_LE(relative(fast.nu, dense.nu), 1e-10);
  EXPECT_LE(kkt_residuals(qp, fast).max(), 1e-9);
}

TEST(BoundStructure, DetectsDiagonalQAndBoundRowsOnly) {
  DenseQp qp = bound_qp(1, 6, 2);
  const auto bounds = BoundStructure::of(qp);
  ASSERT_TRUE(bounds.has_value());
  EXPECT_EQ(bounds->column[0], 0);
  EXPECT_EQ(bounds->coefficient[0], -1.0);
  EXPECT_EQ(bounds->column[7], 2); // the second upper bound, on y_2
  const Vector w = Vector::LinSpaced(qp.G.rows(), 1.0, 2.0);
  const Matrix H = qp.Q + qp.G.transpose() * w.asDiagonal() * qp.G;
  EXPECT_LE((bounds->hessian(w) - H.diagonal()).lpNorm<Eigen::Infinity>(), 1e-15);
  EXPECT_LE((Matrix(H.diagonal().asDiagonal()) - H).lpNorm<Eigen::Infinity>(), 0.0);

  DenseQp coupled = qp; // one off-diagonal entry of Q: the dense path
  coupled.Q(1, 4) = coupled.Q(4, 1) = 0.01;
  EXPECT_FALSE(BoundStructure::of(coupled).has_value());
  DenseQp general = qp; // a row of G with two nonzeros
  general.G(3, 5) = 0.5;
  EXPECT_FALSE(BoundStructure::of(general).has_value());
  DenseQp quadratic = qp;
  quadratic.quadratic.push_back({Matrix::Identity(6, 6), Vector::Zero(6), 1.0});
  EXPECT_FALSE(BoundStructure::of(quadratic).has_value());
}

TEST(BoundStructure, EliminatedBoundsSolveTheDenseActiveSetSystem) {
  const DenseQp qp = bound_qp(2, 30, 5);
  const auto bounds = BoundStructure::of(qp);
  const std::vector<Eigen::Index> rows = {1, 4, 9, 17, 30, 33}; // bounds on distinct variables
  const ActiveSetFactor eliminated = ActiveSetFactor::of_qp(qp, rows, &*bounds);
  const ActiveSetFactor dense = ActiveSetFactor::of_qp(qp, rows, nullptr);
  ASSERT_TRUE(eliminated.ok() && dense.ok());
  const CounterRng rng(9, 9);
  const Vector f = random_matrix(rng, 30, 1, 0), g = random_matrix(rng, 6 + 5, 1, 1000);
  Vector x_e, omega_e, x_d, omega_d;
  eliminated.solve(f, g, x_e, omega_e);
  dense.solve(f, g, x_d, omega_d);
  EXPECT_LE(relative(x_e, x_d), 1e-12);
  EXPECT_LE(relative(omega_e, omega_d), 1e-12);
}

TEST(BoundStructure, StructuredInteriorPointAgreesWithTheDensePath) {
  for (std::uint64_t seed = 0; seed < 4; ++seed)
    expect_paths_agree(bound_qp(10 + seed, 40, 8), "box QP " + std::to_string(seed));
  expect_paths_agree(bound_qp(20, 30, 0), "box QP without equalities");

  // A coupled Q must take the dense path, bit for bit: steps with Q's diagonal alone would be
  // inexact Newton steps that still meet the tolerance, elsewhere (7e-11 away when the detection
  // ignored Q's off-diagonal entries).
  DenseQp coupled = bound_qp(21, 30, 6);
  for (Eigen::Index j = 0; j + 1 < 30; j += 3)
    coupled.Q(j, j + 1) = coupled.Q(j + 1, j) = 0.02;
  const QpSolution fast = InteriorPointQp({1e-11, 100, true}).solve(coupled);
  const QpSolution dense = InteriorPointQp({1e-11, 100, false}).solve(coupled);
  EXPECT_EQ(fast.status, QpStatus::kSolved);
  EXPECT_LE(kkt_residuals(coupled, fast).max(), 1e-9);
  EXPECT_EQ(fast.iterations, dense.iterations);
  EXPECT_EQ(relative(fast.y, dense.y), 0.0);
}

TEST(BoundStructure, SudokuMinibatchSolvesAgreeWithTheDensePath) {
  auto problem = make_problem("sudoku_lp", "-problem_train 8 -problem_test 0");
  auto& p = require<QpLayerProblem>(*problem);
  OwnedVec xv = p.create_x();
  p.initial_x(xv);
  const Vector x = gather_to_all(xv);
  for (int sample = 0; sample < 8; ++sample)
    expect_paths_agree(p.sample_qp(x, sample), "sudoku sample " + std::to_string(sample));
}

} // namespace
} // namespace bilevel::test
