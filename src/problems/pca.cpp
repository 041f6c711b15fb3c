#include "bilevel/problems/pca.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"

#include <Eigen/Eigenvalues>

#include <cmath>
#include <string>

namespace bilevel {

namespace {
constexpr int kPixels = FashionMnist::kPixels;
/// Pixels are stored scaled from bytes; scaling back gives integers.
constexpr double kByte = 255.0;
} // namespace

PcaBasis compute_pca(MPI_Comm comm, const LabeledRows& train, int components) {
  if (components < 1 || components > kPixels)
    throw InputError("PCA with " + std::to_string(components) + " components; accepted: 1 to " +
                     std::to_string(kPixels));
  // On the byte values every product and partial sum is an integer below 2^53, so the reduced
  // sums are exact whatever the summation order: all rank counts decompose a bit-identical
  // matrix and get bit-identical components.
  const Eigen::MatrixXd bytes = (train.features.leftCols(kPixels) * kByte).array().round();
  Eigen::MatrixXd gram = bytes.transpose() * bytes;
  Eigen::VectorXd sums = bytes.colwise().sum().transpose();
  logged_allreduce(comm, gram.data(), static_cast<int>(gram.size()), MPI_SUM);
  logged_allreduce(comm, sums.data(), static_cast<int>(sums.size()), MPI_SUM);
  const auto n = static_cast<double>(train.global_rows);
  // sum_i (a - m)(a - m)' = sum_i a a' - s s' / N, rescaled to the [0, 1] pixel units.
  gram = (gram - sums * sums.transpose() / n) / (kByte * kByte);

  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(gram);
  if (eigen.info() != Eigen::Success)
    throw RuntimeFailure("the eigen-decomposition of the PCA Gram matrix did not converge");
  PcaBasis basis;
  basis.mean = sums / (n * kByte);
  basis.components.resize(kPixels, components);
  basis.variances.resize(components);
  for (int k = 0; k < components; ++k) {
    // Eigenvalues come ascending; take them from the top.
    const int source = kPixels - 1 - k;
    Eigen::VectorXd v = eigen.eigenvectors().col(source);
    // An eigenvector's sign is arbitrary: fix it (largest entry positive) so the projected
    // features do not depend on the eigensolver's choice.
    Eigen::Index largest = 0;
    v.cwiseAbs().maxCoeff(&largest);
    if (v[largest] < 0)
      v = -v;
    basis.components.col(k) = v;
    basis.variances[k] = eigen.eigenvalues()[source];
  }
  return basis;
}

void project_rows(LabeledRows& rows, const PcaBasis& basis) {
  const auto k = basis.components.cols();
  Eigen::MatrixXd projected(rows.features.rows(), k + 1);
  projected.leftCols(k) =
      (rows.features.leftCols(kPixels).rowwise() - basis.mean.transpose()) * basis.components;
  projected.col(k).setOnes();
  rows.features = std::move(projected);
  rows.bytes.resize(0, 0); // projections are not 8-bit
}

} // namespace bilevel
