// The one-pass softmax oracles (row_block_pass) against the textbook two-pass formulas with whole
// matrix products (X W, then X' R), on random data: rows split over the ranks so that each rank
// has several blocks and a remainder that is not a whole register tile, at the full 785 features
// (an odd count: the transpose product's last column is single) and at a PCA-like 7, with the
// features stored as doubles and as bytes (LabeledRows::bytes, Fashion-MNIST's pixels: the pass
// then reads the bytes and scales W and R by 1/255). The reduced results must agree to 1e-12
// relative at every rank count.
#include "test_support.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/problems/softmax_loss.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <array>
#include <cmath>
#include <tuple>

namespace bilevel::test {
namespace {

constexpr int kClasses = FashionMnist::kClasses;
constexpr double kTolerance = 1e-12;

/// This rank's rows of a global random data set of `n` rows (pixel-like features in [0, 1), a
/// bias column of ones, labels in [0, classes)), the same values at every rank count. With
/// `bytes`, the features are random bytes / 255 and the rows carry the bytes, as the
/// Fashion-MNIST loader leaves them.
LabeledRows random_rows(long long n, int features, bool bytes) {
  int rank = 0, size = 1;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  long long begin = 0, end = 0;
  block_partition(n, rank, size, begin, end);
  const CounterRng pixels(7, 1), labels(7, 2);
  LabeledRows rows;
  rows.global_rows = n;
  rows.first_row = begin;
  rows.features.resize(end - begin, features);
  for (long long i = begin; i < end; ++i) {
    for (int j = 0; j + 1 < features; ++j)
      rows.features(i - begin, j) = pixels.uniform(static_cast<std::uint64_t>(i * features + j));
    rows.features(i - begin, features - 1) = 1.0;
    rows.labels.push_back(
        static_cast<int>(labels.uniform(static_cast<std::uint64_t>(i)) * kClasses));
  }
  if (bytes) {
    rows.bytes = (rows.features * 256.0).array().floor().min(255.0).cast<std::uint8_t>();
    rows.bytes.col(features - 1).setConstant(255);
    rows.features = features_from_bytes(rows.bytes);
  }
  return rows;
}

WeightMatrix random_weights(int features, std::uint64_t stream, double scale) {
  const CounterRng rng(11, stream);
  WeightMatrix w(features, kClasses);
  for (Eigen::Index k = 0; k < w.size(); ++k)
    w.data()[k] = scale * rng.normal(static_cast<std::uint64_t>(k));
  return w;
}

Eigen::VectorXd random_sample_weights(const LabeledRows& rows) {
  const CounterRng rng(13, 1);
  Eigen::VectorXd weights(rows.features.rows());
  for (Eigen::Index i = 0; i < weights.size(); ++i)
    weights[i] = rng.uniform(static_cast<std::uint64_t>(rows.first_row + i));
  return weights;
}

// The two-pass reference formulas.
Eigen::MatrixXd reference_probabilities(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::MatrixXd p = rows.features * w;
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    p.row(i) = (p.row(i).array() - p.row(i).maxCoeff()).exp();
    p.row(i) /= p.row(i).sum();
  }
  return p;
}
Eigen::MatrixXd reference_residual(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::MatrixXd r = reference_probabilities(rows, w);
  for (Eigen::Index i = 0; i < r.rows(); ++i)
    r(i, rows.labels[static_cast<std::size_t>(i)]) -= 1.0;
  return r;
}
Eigen::VectorXd reference_losses(const LabeledRows& rows, const WeightMatrix& w) {
  const Eigen::MatrixXd s = rows.features * w;
  Eigen::VectorXd losses(s.rows());
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    const double m = s.row(i).maxCoeff();
    losses[i] = m + std::log((s.row(i).array() - m).exp().sum()) -
                s(i, rows.labels[static_cast<std::size_t>(i)]);
  }
  return losses;
}
WeightMatrix reference_gradient(const LabeledRows& rows, const WeightMatrix& w,
                                const Eigen::VectorXd& weights) {
  return rows.features.transpose() * (weights.asDiagonal() * reference_residual(rows, w)) /
         static_cast<double>(rows.global_rows);
}
WeightMatrix reference_hessian_product(const LabeledRows& rows, const WeightMatrix& w,
                                       const WeightMatrix& v, const Eigen::VectorXd& weights) {
  const Eigen::MatrixXd p = reference_probabilities(rows, w);
  const Eigen::MatrixXd z = rows.features * v;
  Eigen::MatrixXd r = p.cwiseProduct(z);
  const Eigen::VectorXd pz = r.rowwise().sum();
  r -= p.cwiseProduct(pz.replicate(1, p.cols()));
  return rows.features.transpose() * (weights.asDiagonal() * r) /
         static_cast<double>(rows.global_rows);
}

/// The sum over ranks, in place.
template <class Matrix> Matrix reduced(Matrix m) {
  MPI_Allreduce(MPI_IN_PLACE, m.data(), static_cast<int>(m.size()), MPI_DOUBLE, MPI_SUM,
                PETSC_COMM_WORLD);
  return m;
}
double reduced(double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD);
  return value;
}
template <class A, class B> double relative_difference(const A& a, const B& b) {
  return (a - b).norm() / b.norm();
}

/// Parameters: the feature count, and whether the features are stored as bytes.
class SoftmaxOnePass : public ::testing::TestWithParam<std::tuple<int, bool>> {
protected:
  // 1237 rows: 1237, 618-619 or 309-310 per rank, blocks of 128 rows (doubles) or 512 (bytes),
  // and a last block that ends in a partial 16-row tile at 1, 2 and 4 ranks.
  SoftmaxOnePass()
      : rows(random_rows(1237, features(), std::get<1>(GetParam()))),
        w(random_weights(features(), 1, 0.3)), v(random_weights(features(), 2, 1.0)),
        weights(random_sample_weights(rows)) {}
  static int features() { return std::get<0>(GetParam()); }
  LabeledRows rows;
  WeightMatrix w, v;
  Eigen::VectorXd weights;
};

TEST_P(SoftmaxOnePass, GradientMatchesTwoPassProducts) {
  WeightMatrix unweighted = WeightMatrix::Zero(features(), kClasses), weighted = unweighted;
  add_softmax_gradient(rows, w, unweighted);
  add_softmax_gradient(rows, w, weighted, &weights);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(weights.size());
  EXPECT_LE(relative_difference(reduced(unweighted), reduced(reference_gradient(rows, w, ones))),
            kTolerance);
  EXPECT_LE(relative_difference(reduced(weighted), reduced(reference_gradient(rows, w, weights))),
            kTolerance);
}

TEST_P(SoftmaxOnePass, HessianProductMatchesTwoPassProducts) {
  WeightMatrix unweighted = WeightMatrix::Zero(features(), kClasses), weighted = unweighted;
  add_softmax_hessian_product(rows, w, v, unweighted);
  add_softmax_hessian_product(rows, w, v, weighted, &weights);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(weights.size());
  EXPECT_LE(relative_difference(reduced(unweighted),
                                reduced(reference_hessian_product(rows, w, v, ones))),
            kTolerance);
  EXPECT_LE(relative_difference(reduced(weighted),
                                reduced(reference_hessian_product(rows, w, v, weights))),
            kTolerance);
}

TEST_P(SoftmaxOnePass, KeptProbabilitiesGiveTheSameHessianProductsToTheBit) {
  // First call fills the cache, the second reads it (one product with X fewer); a new W must
  // refill it. Every result equals the uncached product exactly.
  ProbabilityCache cache;
  const WeightMatrix w2 = random_weights(features(), 3, 0.3);
  const std::array<const WeightMatrix*, 4> sequence = {&w, &w, &w2, &w2};
  for (const WeightMatrix* at : sequence) {
    WeightMatrix plain = WeightMatrix::Zero(features(), kClasses), kept = plain;
    add_softmax_hessian_product(rows, *at, v, plain, &weights);
    add_softmax_hessian_product(rows, *at, v, kept, &weights, &cache);
    EXPECT_TRUE(kept == plain) << "largest difference " << (kept - plain).cwiseAbs().maxCoeff();
  }
}

TEST_P(SoftmaxOnePass, TrajectoryKeptByGradientsGivesTheSameProductsToTheBit) {
  // ITD's case: gradients at the forward steps' W fill a cache of three points, the reverse
  // sweep's Hessian products read them. Four steps: the first is evicted and recomputed.
  ProbabilityCache cache;
  const Eigen::Index n = rows.features.rows();
  cache.keep_points(3, n);
  std::array<WeightMatrix, 4> steps;
  for (std::size_t t = 0; t < steps.size(); ++t) {
    steps[t] = random_weights(features(), 10 + t, 0.3);
    WeightMatrix plain = WeightMatrix::Zero(features(), kClasses), kept = plain;
    add_softmax_gradient(rows, steps[t], plain, &weights);
    add_softmax_gradient(rows, steps[t], kept, &weights, &cache);
    EXPECT_TRUE(kept == plain) << "gradient " << t;
  }
  EXPECT_EQ(cache.find(steps[0], n), nullptr) << "the oldest point should have been evicted";
  for (std::size_t t = 1; t < steps.size(); ++t)
    EXPECT_NE(cache.find(steps[t], n), nullptr) << "step " << t << " should be kept";
  for (std::size_t t = steps.size(); t-- > 0;) {
    WeightMatrix plain = WeightMatrix::Zero(features(), kClasses), kept = plain;
    add_softmax_hessian_product(rows, steps[t], v, plain, &weights);
    add_softmax_hessian_product(rows, steps[t], v, kept, &weights, &cache);
    EXPECT_TRUE(kept == plain) << "step " << t << ": largest difference "
                               << (kept - plain).cwiseAbs().maxCoeff();
  }
}

TEST_P(SoftmaxOnePass, PerSampleResultsMatchTwoPassProducts) {
  // Cross derivatives (hyper-cleaning's d_x grad_y g) and losses are per local sample.
  const Eigen::VectorXd directional =
      reference_residual(rows, w).cwiseProduct(rows.features * v).rowwise().sum();
  EXPECT_LE(reduced(std::pow((softmax_sample_directional(rows, w, v) - directional).norm(), 2)),
            std::pow(kTolerance, 2) * reduced(directional.squaredNorm()));
  const Eigen::VectorXd losses = reference_losses(rows, w);
  EXPECT_LE(reduced(std::pow((softmax_sample_losses(rows, w) - losses).norm(), 2)),
            std::pow(kTolerance, 2) * reduced(losses.squaredNorm()));
  const double loss = reduced(softmax_loss(rows, w, &weights)),
               expected = reduced(weights.dot(losses) / static_cast<double>(rows.global_rows));
  EXPECT_LE(std::abs(loss - expected), kTolerance * std::abs(expected));
  const Eigen::MatrixXd p = reference_probabilities(rows, w);
  EXPECT_LE(reduced(std::pow((softmax_probabilities(rows, w) - p).norm(), 2)),
            std::pow(kTolerance, 2) * reduced(p.squaredNorm()));
}

TEST_P(SoftmaxOnePass, PredictionsMatchArgmaxOfScores) {
  const Eigen::MatrixXd scores = rows.features * w;
  long long expected = 0;
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    Eigen::Index best = 0;
    scores.row(i).maxCoeff(&best);
    expected += best == rows.labels[static_cast<std::size_t>(i)];
  }
  EXPECT_EQ(correct_predictions(rows, w), expected);
}

INSTANTIATE_TEST_SUITE_P(Features, SoftmaxOnePass,
                         ::testing::Combine(::testing::Values(FashionMnist::kPixels + 1, 7),
                                            ::testing::Bool()));

} // namespace
} // namespace bilevel::test
