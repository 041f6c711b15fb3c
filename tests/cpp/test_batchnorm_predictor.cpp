// The FFO-layer paper's decision-focused predictor (BatchNormMlp, dfl_qp -problem_model
// batchnorm): the minibatch split across the ranks is normalised as one (outputs and running
// statistics as on one rank holding it all), and the gradient of the minibatch loss through the
// QP layers, BatchNorm's coupling of the samples included, agrees with central differences.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/batchnorm_mlp.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

using Vector = Eigen::VectorXd;
using Matrix = Eigen::MatrixXd;

/// This rank's contiguous block of `count` columns.
void rank_block(int count, int& begin, int& end) {
  int size = 1, rank = 0;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  begin = count * rank / size;
  end = count * (rank + 1) / size;
}

TEST(BatchNormPredictor, SplitMinibatchMatchesTheWholeOnOneRank) {
  const BatchNormMlp net({5, 4, 3, 2});
  const int samples = 8;
  Matrix inputs(5, samples);
  const CounterRng rng(3, 1);
  for (Eigen::Index i = 0; i < inputs.size(); ++i)
    inputs.data()[i] = rng.normal(static_cast<std::uint64_t>(i));
  Vector whole = net.initial(CounterRng(3, 2));
  const Matrix expected = net.training_forward(whole, inputs, PETSC_COMM_SELF);
  int begin = 0, end = 0;
  rank_block(samples, begin, end);
  Vector split = net.initial(CounterRng(3, 2));
  const Matrix outputs =
      net.training_forward(split, inputs.middleCols(begin, end - begin), PETSC_COMM_WORLD);
  EXPECT_LE((outputs - expected.middleCols(begin, end - begin)).norm(), 1e-13 * expected.norm());
  // The running statistics moved from (0, 1) by momentum 0.1 (so they are not the initial ones)
  // and the same on every layout.
  EXPECT_LE((split - whole).norm(), 1e-13 * whole.norm());
  EXPECT_GT((whole - net.initial(CounterRng(3, 2))).tail(14).norm(), 1e-3);
  // In training mode the outputs of the minibatch are centred before the ReLU: the first hidden
  // layer's running mean is 0.1 times the minibatch mean of W phi + b.
  const Eigen::Map<const Eigen::Matrix<double, 4, 5, Eigen::RowMajor>> W(whole.data());
  const Vector mean = (W * inputs).rowwise().mean(); // b = 0 initially
  EXPECT_LE((whole.segment(net.parameters() - 14, 4) - 0.1 * mean).norm(), 1e-14);
}

constexpr int kHidden = 6;
const char* const kOptions = "-problem_model batchnorm -problem_n 12 -problem_features 10 "
                             "-problem_hidden 6 -problem_train 16 -problem_batch 8";

/// A random direction in the parameters, zero on the running statistics (the last 2 x 2 x
/// kHidden entries: they take no gradient).
Vector parameter_direction(Eigen::Index size) {
  const CounterRng rng(11, 4);
  Vector direction(size);
  for (Eigen::Index i = 0; i < size; ++i)
    direction[i] = rng.normal(static_cast<std::uint64_t>(i));
  direction.tail(4 * kHidden).setZero();
  return direction;
}

/// The minibatch loss of dfl_qp in training mode and its gradient (oracle `oracle`), against
/// central differences along a random direction.
void expect_minibatch_gradient(const std::string& oracle) {
  auto problem = make_problem("dfl_qp", kOptions);
  auto& p = require<QpLayerProblem>(*problem);
  OwnedVec xv = p.create_x();
  p.initial_x(xv);
  const Vector x = gather_to_all(xv);
  const InteriorPointQp ipm({1e-13, 200});
  const std::vector<int> samples = p.batch(0);
  int begin = 0, end = 0;
  p.local_block(begin, end);
  const std::vector<int> local(samples.begin() + begin, samples.begin() + end);
  auto loss = [&](const Vector& at) {
    Vector model = at; // the forward pass moves the running statistics of its copy
    double sum = 0.0;
    p.forward_training_batch(model, local);
    for (std::size_t k = 0; k < local.size(); ++k)
      sum += p.sample_loss(local[k], ipm.solve(p.training_qp(model, local, k)).y);
    MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD);
    return sum / p.batch_size();
  };
  Vector model = x;
  p.forward_training_batch(model, local);
  std::vector<DenseQp> qps;
  for (std::size_t k = 0; k < local.size(); ++k)
    qps.push_back(p.training_qp(model, local, k));
  QpLayerOracleConfig config;
  config.oracle = oracle;
  const auto layer_oracle = make_qp_layer_oracle(config);
  std::vector<QpLayerGradient> layers;
  for (std::size_t k = 0; k < local.size(); ++k) {
    const QpSolution solution = ipm.solve(qps[k]);
    ASSERT_EQ(solution.status, QpStatus::kSolved);
    layers.push_back(layer_oracle->backward(
        qps[k], solution, p.sample_loss_gradient(local[k], solution.y) / p.batch_size(), false));
  }
  Vector grad = Vector::Zero(x.size());
  p.add_training_gradient(model, local, layers, grad);
  MPI_Allreduce(MPI_IN_PLACE, grad.data(), static_cast<int>(grad.size()), MPI_DOUBLE, MPI_SUM,
                PETSC_COMM_WORLD);
  const Vector direction = parameter_direction(x.size());
  const double h = 1e-6;
  const double fd = (loss(x + h * direction) - loss(x - h * direction)) / (2 * h);
  EXPECT_NEAR(grad.dot(direction), fd, 1e-6 * std::abs(fd)) << oracle;
  EXPECT_GT(std::abs(fd), 1e-4); // the check is not vacuous
}

TEST(BatchNormPredictor, MinibatchGradientMatchesCentralDifferences) {
  for (const char* oracle : {"kkt", "ffoqp"})
    expect_minibatch_gradient(oracle);
}

TEST(BatchNormPredictor, EvaluationModeGradientMatchesCentralDifferences) {
  // One sample through the running statistics (here moved by one training minibatch, so they
  // are not the initial 0 and 1): what the per-sample hooks and the test split use.
  auto problem = make_problem("dfl_qp", kOptions);
  auto& p = require<QpLayerProblem>(*problem);
  OwnedVec xv = p.create_x();
  p.initial_x(xv);
  Vector x = gather_to_all(xv);
  int begin = 0, end = 0;
  p.local_block(begin, end);
  const std::vector<int> samples = p.batch(0);
  p.forward_training_batch(x, {samples.begin() + begin, samples.begin() + end});
  const InteriorPointQp ipm({1e-13, 200});
  const int sample = 3;
  const DenseQp qp = p.sample_qp(x, sample);
  const QpSolution solution = ipm.solve(qp);
  QpLayerOracleConfig config;
  config.oracle = "kkt";
  Vector grad = Vector::Zero(x.size());
  p.add_model_gradient(x, sample,
                       make_qp_layer_oracle(config)->backward(
                           qp, solution, p.sample_loss_gradient(sample, solution.y), false),
                       grad);
  auto loss = [&](const Vector& at) {
    return p.sample_loss(sample, ipm.solve(p.sample_qp(at, sample)).y);
  };
  const Vector direction = parameter_direction(x.size());
  const double h = 1e-6;
  const double fd = (loss(x + h * direction) - loss(x - h * direction)) / (2 * h);
  EXPECT_NEAR(grad.dot(direction), fd, 1e-6 * std::abs(fd));
  EXPECT_GT(std::abs(fd), 1e-4);
}

} // namespace
} // namespace bilevel::test
