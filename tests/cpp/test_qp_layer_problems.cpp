// The FFO-layer paper's QP-layer learning problems: the whole chain model -> QP -> interior point
// -> loss, differentiated by each oracle's backward pass and the problem's back-propagation,
// against central differences of the loss in the model parameters (dfl_qp: q through a clamp and a
// linear model or an MLP; sudoku_lp: the learned A and b = A exp(z0), so dl/dA and dl/db). And
// the Sudoku rule check.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/sudoku_lp.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

using Vector = Eigen::VectorXd;

/// d loss(sample) / dx along a random direction: the oracle's value and central differences,
/// within `tolerance` relative for kkt and ffoqp.
void expect_model_gradient(const std::string& problem_name, const std::string& options,
                           const std::string& oracle, double tolerance) {
  auto problem = make_problem(problem_name, options);
  auto& p = require<QpLayerProblem>(*problem);
  OwnedVec xv = p.create_x();
  p.initial_x(xv);
  const Vector x = gather_to_all(xv);
  const InteriorPointQp ipm({1e-13, 200});
  const int sample = 3;
  auto loss = [&](const Vector& at) {
    return p.sample_loss(sample, ipm.solve(p.sample_qp(at, sample)).y);
  };
  const DenseQp qp = p.sample_qp(x, sample);
  const QpSolution solution = ipm.solve(qp);
  ASSERT_EQ(solution.status, QpStatus::kSolved);
  QpLayerOracleConfig config;
  config.oracle = oracle;
  const QpLayerGradient layer = make_qp_layer_oracle(config)->backward(
      qp, solution, p.sample_loss_gradient(sample, solution.y), p.needs_matrix_gradients());
  Vector grad = Vector::Zero(x.size());
  p.add_model_gradient(x, sample, layer, grad);
  const CounterRng rng(5, 5);
  Vector direction(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    direction[i] = rng.normal(static_cast<std::uint64_t>(i));
  const double h = 1e-6;
  const double fd = (loss(x + h * direction) - loss(x - h * direction)) / (2 * h);
  // ffo carries its finite-difference error: inner tolerance 1e-12 over delta = 1e-6 and
  // mu(Q) = 0.1 (Sudoku), about 1e-5.
  EXPECT_NEAR(grad.dot(direction), fd, (oracle == "ffo" ? 1e-4 : tolerance) * std::abs(fd))
      << problem_name << options << " " << oracle;
  EXPECT_GT(std::abs(fd), 1e-4); // the check is not vacuous
}

TEST(QpLayerProblems, DflModelGradientMatchesCentralDifferences) {
  // The linear model, and the MLP (back-propagation through its tanh hidden layer).
  for (const char* model : {"", " -problem_model mlp -problem_hidden 7"})
    for (const char* oracle : {"kkt", "ffoqp", "ffo"})
      expect_model_gradient(
          "dfl_qp", std::string("-problem_n 12 -problem_features 5 -problem_train 16") + model,
          oracle, 1e-6);
}

TEST(QpLayerProblems, SudokuModelGradientMatchesCentralDifferences) {
  for (const char* oracle : {"kkt", "ffoqp", "ffo"})
    expect_model_gradient("sudoku_lp", "-problem_train 16 -problem_test 0", oracle, 1e-5);
}

TEST(QpLayerProblems, ConvexLayerModelGradientsMatchCentralDifferences) {
  // portfolio_layer: mu_hat through the clamp and the linear model, the risk budget binding;
  // ball_layer: the model and the learned centre (dl/dr, dl/ds of the ball constraint).
  for (const char* oracle : {"kkt", "ffoqp", "ffo"}) {
    expect_model_gradient("portfolio_layer", "-problem_train 16 -problem_test 0", oracle, 1e-6);
    expect_model_gradient("ball_layer", "-problem_train 16 -problem_test 0", oracle, 1e-6);
  }
}

TEST(QpLayerProblems, PortfolioRiskBudgetBinds) {
  // Without a binding budget the layer would be a QP: at the initial model most samples'
  // allocations sit on it.
  auto problem = make_problem("portfolio_layer", "-problem_train 16 -problem_test 0");
  auto& p = dynamic_cast<QpLayerProblem&>(*problem);
  OwnedVec xv = p.create_x();
  p.initial_x(xv);
  const Vector x = gather_to_all(xv);
  int binding = 0;
  for (int sample = 0; sample < 16; ++sample) {
    const DenseQp qp = p.sample_qp(x, sample);
    const QpSolution s = InteriorPointQp({}).solve(qp);
    ASSERT_EQ(s.status, QpStatus::kSolved);
    binding += s.lambda[qp.linear_rows()] > 1e-6 ? 1 : 0;
  }
  EXPECT_GE(binding, 8);
}

TEST(QpLayerProblems, SudokuRulesInitHoldsForEverySolution) {
  // -problem_init rules: A has full row rank (the rank of all the rules, 40 and 249) and every
  // puzzle's solution satisfies A y = b = 1. The solution is read off the loss gradient at y = 0,
  // -2 y_true / N^3.
  for (const int size : {4, 9}) {
    auto problem = make_problem("sudoku_lp", "-problem_init rules -problem_train 8 "
                                             "-problem_test 0 -problem_size " +
                                                 std::to_string(size));
    auto& p = require<QpLayerProblem>(*problem);
    OwnedVec xv = p.create_x();
    p.initial_x(xv);
    const Vector x = gather_to_all(xv);
    const auto cells = static_cast<double>(p.layer_size());
    for (int sample = 0; sample < 8; ++sample) {
      const DenseQp qp = p.sample_qp(x, sample);
      EXPECT_EQ(Eigen::FullPivLU<Eigen::MatrixXd>(qp.A).rank(), size == 9 ? 249 : 40);
      EXPECT_LT((qp.b - Vector::Ones(qp.b.size())).norm(), 1e-12);
      const Vector solution =
          -cells / 2 * p.sample_loss_gradient(sample, Vector::Zero(qp.Q.rows()));
      EXPECT_NEAR(solution.sum(), size * size, 1e-12);
      EXPECT_LT((qp.A * solution - qp.b).norm(), 1e-12) << size << " " << sample;
    }
  }
}

TEST(QpLayerProblems, SudokuRuleCheck) {
  std::vector<int> board = {0, 1, 2, 3, 2, 3, 0, 1, 1, 2, 3, 0, 3, 0, 1, 2};
  EXPECT_TRUE(SudokuLp::valid_board(board));
  std::swap(board[0], board[1]); // row still distinct, columns and box not
  EXPECT_FALSE(SudokuLp::valid_board(board));
  std::vector<int> latin = {0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2}; // boxes repeat
  EXPECT_FALSE(SudokuLp::valid_board(latin));
  std::vector<int> big(81); // the base 9x9 board (3 (r mod 3) + r / 3 + c) mod 9
  for (int r = 0; r < 9; ++r)
    for (int c = 0; c < 9; ++c)
      big[static_cast<std::size_t>(9 * r + c)] = (3 * (r % 3) + r / 3 + c) % 9;
  EXPECT_TRUE(SudokuLp::valid_board(big));
  std::swap(big[0], big[9]); // column 0 still distinct, rows and box 0 not
  EXPECT_FALSE(SudokuLp::valid_board(big));
}

} // namespace
} // namespace bilevel::test
