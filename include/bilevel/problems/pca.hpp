#pragma once
// Principal components of Fashion-MNIST's training pixels, for the PGD-QP paper's reduced-dimension
// hyper-cleaning. Every rank reduces its rows' partial Gram matrix and eigen-decomposes the same
// 784 x 784 matrix, so the basis does not depend on the rank count.
#include "bilevel/io/fashion_mnist.hpp"

#include <Eigen/Dense>
#include <mpi.h>

namespace bilevel {

struct PcaBasis {
  Eigen::VectorXd mean;       ///< training mean of each pixel
  Eigen::MatrixXd components; ///< pixels x k, orthonormal columns
  Eigen::VectorXd variances;  ///< the k largest eigenvalues of the centred Gram matrix, descending
};

/// The top `components` eigenvectors of sum_i (a_i - mean)(a_i - mean)' over all ranks' rows of
/// `train` (pixels only, not the bias). Collective on comm.
PcaBasis compute_pca(MPI_Comm comm, const LabeledRows& train, int components);

/// Replaces the rows' features by [(a_i - mean)' V, 1]: the projection plus the bias feature.
void project_rows(LabeledRows& rows, const PcaBasis& basis);

} // namespace bilevel
