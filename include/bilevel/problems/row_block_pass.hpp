#pragma once
// One pass over the rows of a rank's feature matrix X (column-major, as LabeledRows stores it)
// for the softmax oracles: the rows are taken in blocks small enough to stay in the core's
// cache, the block's scores X_b W (and X_b V) are computed, handed to a visitor that turns them
// into per-row results or a residual R_b, and X_b' R_b is accumulated while X_b is still
// cached. Reading X once from memory instead of once per product (X W, then X' R) is what
// brings the oracles to the one-pass bound of docs/performance.md.
//
// The products are register-tiled kernels (row_block_kernels.hpp), compiled for AVX-512 and for
// the baseline ISA and chosen by the CPU at the first call. The number of classes is fixed at
// FashionMnist::kClasses, the only class count of the data sets that use it.
#include "bilevel/io/fashion_mnist.hpp"

#include <Eigen/Dense>

#include <functional>

namespace bilevel {

using WeightMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A block's rows x classes matrix in the pass's buffers (column-major, padded leading dim).
using BlockMatrix = Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

/// What the visitor of one block of rows sees and fills.
struct RowBlock {
  Eigen::Index first; ///< local index of the block's first row
  Eigen::Index rows;  ///< rows in the block
  /// X_b W when the pass was given a W (else 0 x classes).
  BlockMatrix scores;
  /// X_b V when the pass was given a V (else 0 x classes).
  BlockMatrix directions;
  /// Zero on entry; when the pass accumulates, what the visitor leaves here is added as
  /// X_b' R to the pass's output (else 0 x classes).
  BlockMatrix residual;
};

/// Each row of a block's scores replaced by its softmax probabilities, vectorised over the rows
/// (the exponential within 2 units in the last place, row_block_kernels.tpp).
void softmax_in_place(BlockMatrix& scores);

/// Visits every block of the rows' features X in order. `w` and `v` (each optional) add X_b W
/// and X_b V to each block; `accumulate` (optional) receives += X' R over all blocks. `w`, `v` and
/// `accumulate` are features.cols() x FashionMnist::kClasses. When the rows carry their features
/// as bytes (LabeledRows::bytes), the products read those: X_b W = B_b (W / 255) and
/// X_b' R_b = B_b' (R_b / 255), equal to the products with the doubles up to rounding.
void row_block_pass(const LabeledRows& rows, const WeightMatrix* w, const WeightMatrix* v,
                    WeightMatrix* accumulate, const std::function<void(RowBlock&)>& visit);

} // namespace bilevel
