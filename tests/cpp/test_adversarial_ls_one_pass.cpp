// adversarial_ls's one-pass oracles (DenseRowPass: A x and A' r in one read of A) against the
// textbook formulas with whole-matrix Eigen products on the gathered A, m and b, on random
// x, y and directions. Two shapes: 300 columns (104-row blocks: several blocks per rank and a
// partial last one at 1, 2 and 4 ranks) and 10 columns (3 272-row blocks), with row counts
// that neither the block size nor the rank counts divide. Agreement to 1e-12 relative.
#include "test_support.hpp"

#include "bilevel/core/record.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/adversarial_ls.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace bilevel::test {
namespace {

constexpr double kTolerance = 1e-12;
constexpr double kLambda = 0.7;

double relative(const Eigen::VectorXd& value, const Eigen::VectorXd& reference) {
  return (value - reference).norm() / reference.norm();
}
double relative(double value, double reference) {
  return std::abs(value - reference) / std::abs(reference);
}

/// The problem's A on every rank, column by column.
Eigen::MatrixXd whole_matrix(const AdversarialLs& problem) {
  Eigen::MatrixXd a(problem.ny(), problem.nx());
  OwnedVec column = problem.create_y();
  for (PetscInt j = 0; j < problem.nx(); ++j) {
    BB_PETSC(MatGetColumnVector(problem.matrix(), column, j));
    a.col(j) = gather_to_all(column);
  }
  return a;
}

struct OnePassCase {
  int n, d;
};

class AdversarialLsOnePass : public ::testing::TestWithParam<OnePassCase> {};

TEST_P(AdversarialLsOnePass, OraclesMatchWholeMatrixProducts) {
  const auto [n_rows, d_cols] = GetParam();
  std::ostringstream options;
  options << "-problem_data synthetic -problem_n " << n_rows << " -problem_d " << d_cols
          << " -problem_lambda " << kLambda << " -seed 3";
  auto owned = make_problem("adversarial_ls", options.str());
  auto& problem = dynamic_cast<AdversarialLs&>(*owned);
  const double n = n_rows;
  const Eigen::MatrixXd a = whole_matrix(problem);

  OwnedVec x = problem.create_x(), w = problem.create_x(), gx = problem.create_x();
  OwnedVec y = problem.create_y(), v = problem.create_y(), gy = problem.create_y();
  fill_random(x, 1, 0.3);
  fill_random(w, 2);
  fill_random(y, 3);
  fill_random(v, 4);
  // b is the initial y; M from the Hessian ((1 + lambda)/n) M, which reads no A.
  OwnedVec b = problem.create_y(), ones = problem.create_y(), hm = problem.create_y();
  problem.initial_y(x, b);
  BB_PETSC(VecSet(ones, 1.0));
  problem.lower_hess_yy(x, y, ones, hm);
  const Eigen::VectorXd m = gather_to_all(hm) * (n / (1.0 + kLambda));
  const Eigen::VectorXd bv = gather_to_all(b), xv = gather_to_all(x), yv = gather_to_all(y),
                        vv = gather_to_all(v), wv = gather_to_all(w);
  const Eigen::VectorXd r = a * xv - yv, shift = yv - bv;

  EXPECT_LT(relative(problem.upper_value(x, y), 0.5 * r.squaredNorm() / n), kTolerance);
  problem.upper_gradient(x, y, gx, gy);
  EXPECT_LT(relative(gather_to_all(gx), a.transpose() * r / n), kTolerance);
  EXPECT_LT(relative(gather_to_all(gy), -r / n), kTolerance);

  const Eigen::VectorXd mr = m.cwiseProduct(r);
  EXPECT_LT(relative(problem.lower_value(x, y),
                     0.5 * (r.dot(mr) + kLambda * shift.dot(m.cwiseProduct(shift))) / n),
            kTolerance);
  const Eigen::VectorXd lower_gy = (kLambda * m.cwiseProduct(shift) - mr) / n;
  problem.lower_gradient(x, y, gx, gy);
  EXPECT_LT(relative(gather_to_all(gx), a.transpose() * mr / n), kTolerance);
  EXPECT_LT(relative(gather_to_all(gy), lower_gy), kTolerance);
  // The inner solvers' call: grad_y g alone.
  BB_PETSC(VecSet(gy, 0.0));
  problem.lower_gradient(x, y, nullptr, gy);
  EXPECT_LT(relative(gather_to_all(gy), lower_gy), kTolerance);

  problem.lower_hess_xy(x, y, v, gx);
  EXPECT_LT(relative(gather_to_all(gx), -a.transpose() * m.cwiseProduct(vv) / n), kTolerance);
  problem.lower_hess_yx(x, y, w, gy);
  EXPECT_LT(relative(gather_to_all(gy), -m.cwiseProduct(a * wv) / n), kTolerance);

  // The closed form: phi = (s^2/2n) ||S (Ax - b)||^2, grad = (s^2/n) A'S(Ax - b), y* = Ax -
  // s S (Ax - b), S the support of M, s = lambda/(1 + lambda).
  const double s = kLambda / (1.0 + kLambda);
  const Eigen::VectorXd e = a * xv - bv;
  const Eigen::VectorXd pinned = (m.array() > 0).select(e, 0.0);
  problem.exact_hypergradient(x, gx, gy);
  EXPECT_LT(relative(gather_to_all(gx), s * s * a.transpose() * pinned / n), kTolerance);
  EXPECT_LT(relative(gather_to_all(gy), a * xv - s * pinned), kTolerance);
  Record metrics;
  problem.report_metrics(x, y, metrics);
  EXPECT_LT(relative(metrics.get("phi"), 0.5 * s * s * pinned.squaredNorm() / n), kTolerance);
  EXPECT_LT(relative(metrics.get("mse"), e.squaredNorm() / n), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AdversarialLsOnePass,
                         ::testing::Values(OnePassCase{1001, 300}, OnePassCase{7001, 10}));

} // namespace
} // namespace bilevel::test
