// The model optimizer's learning-rate schedule (docs/ffo-qp-layers.md, -alg_lr_decay): the
// update after k earlier ones uses lr * decay^floor(k / decay_every), in SGD and in Adam, and a
// decay of 1 keeps the rate constant. With a constant gradient g Adam's bias-corrected moments
// are exactly g and g^2, so each Adam step moves x by lr_k * g / (|g| + eps): the schedule is read
// off the iterates.
#include "bilevel/solvers/model_optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bilevel::test {
namespace {

constexpr double kTolerance = 1e-15;

ModelOptimizer::Config schedule(bool adam, double decay, long long every) {
  ModelOptimizer::Config c;
  c.adam = adam;
  c.learning_rate = 0.1;
  c.clip = 0.0;
  c.decay = decay;
  c.decay_every = every;
  return c;
}

TEST(ModelOptimizer, StepDecayHalvesEveryThreeUpdates) {
  const ModelOptimizer optimizer(schedule(true, 0.5, 3));
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (std::size_t k = 0; k < expected.size(); ++k)
    EXPECT_NEAR(optimizer.learning_rate(static_cast<long long>(k)), expected[k], kTolerance) << k;
  EXPECT_DOUBLE_EQ(optimizer.learning_rate(3000), 0.1 * std::pow(0.5, 1000));
}

TEST(ModelOptimizer, DecayOfOneIsConstant) {
  const ModelOptimizer optimizer(schedule(true, 1.0, 1));
  for (long long k : {0LL, 1LL, 7LL, 1000000LL})
    EXPECT_EQ(optimizer.learning_rate(k), 0.1) << k;
}

/// Seven updates with the constant gradient `g`; the step each made.
std::vector<double> steps_taken(ModelOptimizer& optimizer, double g) {
  Eigen::VectorXd x = Eigen::VectorXd::Zero(2);
  std::vector<double> steps;
  for (int k = 0; k < 7; ++k) {
    EXPECT_NEAR(optimizer.learning_rate(), optimizer.learning_rate(k), 0.0) << k;
    Eigen::VectorXd grad = Eigen::VectorXd::Constant(2, g);
    const double before = x[0];
    optimizer.apply(x, grad);
    steps.push_back(before - x[0]);
  }
  return steps;
}

TEST(ModelOptimizer, SgdStepsFollowTheSchedule) {
  ModelOptimizer optimizer(schedule(false, 0.5, 3));
  const std::vector<double> steps = steps_taken(optimizer, 2.0);
  for (std::size_t k = 0; k < steps.size(); ++k)
    EXPECT_NEAR(steps[k], 2.0 * optimizer.learning_rate(static_cast<long long>(k)), kTolerance)
        << k;
  EXPECT_NEAR(steps.back(), 2.0 * 0.025, kTolerance);
}

TEST(ModelOptimizer, AdamStepsFollowTheSchedule) {
  ModelOptimizer optimizer(schedule(true, 0.5, 3));
  const double g = 4.0, unit = g / (g + 1e-8); // Adam's normalised step for a constant gradient
  const std::vector<double> steps = steps_taken(optimizer, g);
  const std::vector<double> rates = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (std::size_t k = 0; k < steps.size(); ++k)
    EXPECT_NEAR(steps[k], rates[k] * unit, 1e-14) << k;
}

} // namespace
} // namespace bilevel::test
