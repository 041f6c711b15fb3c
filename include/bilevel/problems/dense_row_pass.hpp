#pragma once
// One pass over the rows of a distributed dense matrix A (PETSc MATMPIDENSE: each rank holds a
// block of rows, column-major with a leading dimension) for the oracles of a least-squares-like
// problem: per row a value from a_i x, per row a weight r_i, and A' r summed over all rows. The
// rows are taken in blocks that fit in the core's L2 cache; for each block A_b x is computed,
// handed to a visitor that turns it into per-row results and the block's weights r_b, and
// A_b' r_b is accumulated while A_b is still cached. A is read from memory once per oracle call
// instead of once per product (A x, then A' r), the same idea as row_block_pass.hpp for the
// softmax oracles, here with one right-hand side: the block products are BLAS dgemv calls.
//
// x is distributed like A's columns and is gathered to every rank first (what MatMult does
// too); the partial sums A_b' r_b of all of a rank's blocks are reduced over the ranks once per
// pass (what MatMultTranspose does too).
#include "bilevel/core/replicated_vec.hpp"

#include <Eigen/Dense>
#include <petscmat.h>

#include <functional>

namespace bilevel {

/// What the visitor of one block of rows sees and fills.
struct DenseRowBlock {
  PetscInt first; ///< local index of the block's first row
  PetscInt rows;  ///< rows in the block
  /// A_b x when the pass was given an x (else empty).
  Eigen::Map<const Eigen::VectorXd> products;
  /// Zero on entry; when the pass accumulates, what the visitor leaves here is added as A_b' r_b
  /// to the pass's output (else empty).
  Eigen::Map<Eigen::VectorXd> weights;
};

/// The pass's buffers (the gathered x, a block's products and weights, the partial A' r), kept
/// between calls.
class DenseRowPass {
public:
  /// Visits every block of this rank's rows of `a` in order. `x` (optional, laid out like `a`'s
  /// columns) adds A_b x to each block; `out` (optional, the same layout) receives A' r over all
  /// rows of all ranks. Collective over `a`'s communicator when `x` or `out` is given.
  void operator()(Mat a, Vec x, Vec out, const std::function<void(DenseRowBlock&)>& visit);

private:
  VecGatherer gather_;
  Eigen::VectorXd products_, weights_, sum_;
};

} // namespace bilevel
