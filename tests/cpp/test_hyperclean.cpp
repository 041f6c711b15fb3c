// Hyper-cleaning's PCA basis (the PGD-QP paper, docs/algorithms.md §7.7): orthonormal components
// whose Rayleigh quotients on the centred Gram matrix are the reported eigenvalues, in descending
// order; and the loader's record of corrupted labels, which the weight-on-corrupted metric relies
// on.
#include "test_support.hpp"

#include "bilevel/problems/pca.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

FashionMnistConfig small_data() {
  FashionMnistConfig config;
  config.train = 300;
  config.validation = 10;
  config.test = 10;
  config.corruption = 0.25;
  return config;
}

TEST(Pca, BasisIsOrthonormalWithDescendingGramEigenvalues) {
  const FashionMnist data = load_fashion_mnist(PETSC_COMM_WORLD, small_data());
  constexpr int k = 12;
  const PcaBasis basis = compute_pca(PETSC_COMM_WORLD, data.train, k);
  ASSERT_EQ(basis.components.rows(), FashionMnist::kPixels);
  ASSERT_EQ(basis.components.cols(), k);
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(k, k);
  EXPECT_LE((basis.components.transpose() * basis.components - identity).norm(), 1e-12);
  for (int i = 0; i + 1 < k; ++i)
    EXPECT_GE(basis.variances[i], basis.variances[i + 1]) << "eigenvalue " << i;
  EXPECT_GT(basis.variances[k - 1], 0.0);

  // The centred Gram matrix, assembled independently in floating point.
  const Eigen::MatrixXd centred =
      data.train.features.leftCols(FashionMnist::kPixels).rowwise() - basis.mean.transpose();
  Eigen::MatrixXd gram = centred.transpose() * centred;
  MPI_Allreduce(MPI_IN_PLACE, gram.data(), static_cast<int>(gram.size()), MPI_DOUBLE, MPI_SUM,
                PETSC_COMM_WORLD);
  const Eigen::MatrixXd rayleigh = basis.components.transpose() * gram * basis.components;
  const Eigen::MatrixXd expected = basis.variances.asDiagonal();
  EXPECT_LE((rayleigh - expected).norm(), 1e-9 * basis.variances[0]);
}

TEST(Pca, ProjectionKeepsTheBiasFeature) {
  FashionMnist data = load_fashion_mnist(PETSC_COMM_WORLD, small_data());
  const PcaBasis basis = compute_pca(PETSC_COMM_WORLD, data.train, 5);
  project_rows(data.validation, basis);
  ASSERT_EQ(data.validation.features.cols(), 6);
  EXPECT_TRUE((data.validation.features.col(5).array() == 1.0).all());
}

TEST(FashionMnistLoader, RecordsWhichTrainingLabelsWereCorrupted) {
  FashionMnistConfig config = small_data();
  const FashionMnist corrupted = load_fashion_mnist(PETSC_COMM_WORLD, config);
  config.corruption = 0.0;
  const FashionMnist clean = load_fashion_mnist(PETSC_COMM_WORLD, config);
  ASSERT_EQ(corrupted.train.corrupted.size(), corrupted.train.labels.size());
  for (std::size_t i = 0; i < clean.train.labels.size(); ++i)
    EXPECT_EQ(corrupted.train.corrupted[i], corrupted.train.labels[i] != clean.train.labels[i]);
}

} // namespace
} // namespace bilevel::test
