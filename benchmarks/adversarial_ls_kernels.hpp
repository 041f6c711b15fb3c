#pragma once
// adversarial_ls's oracles that read the data matrix A (n x d, MATMPIDENSE), each one pass over
// A's rows (DenseRowPass), next to the two-pass PETSc sequences they replaced (MatMult for the
// residual, vector operations, MatMultTranspose), on the same instance and vectors, so that one
// run gives both against the same bounds (docs/performance.md).
#include "harness.hpp"

#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/problems/problem.hpp"

#include <memory>

namespace bench {

/// The instance, its vectors, and the PETSc reference sequences.
class AdversarialLsKernels {
public:
  explicit AdversarialLsKernels(MPI_Comm comm);

  /// Registers adversarial_ls/<oracle> (the one-pass oracle) and adversarial_ls/<oracle>_petsc
  /// (the two-pass sequence) for the lower gradient (both parts, and grad_y g alone as the inner
  /// solvers call it), the upper gradient and the two cross derivatives.
  void register_benchmarks(MPI_Comm comm, const Limits& limits);

  /// The problem's options, for the JSON context.
  static const char* options();

private:
  void petsc_lower_gradient(Vec gx, Vec gy);
  void petsc_upper_gradient();
  void petsc_hess_xy();
  void petsc_hess_yx();

  std::unique_ptr<bilevel::Problem> problem_;
  Mat a_; ///< the problem's A (not owned)
  double n_ = 0, d_ = 0, lambda_ = 0;
  int ranks_ = 1;
  bilevel::OwnedVec x_, w_, gx_, y_, v_, gy_, m_, b_, residual_, weighted_;
};

} // namespace bench
