#pragma once
// H(F, F), the principal submatrix of an AIJ matrix on a set F of its rows: the free-set matrix
// that active-set methods solve with (TAO's TRON on the lower QP's free face, the box QP's and
// the VI's free-set adjoints). PETSc's general MatCreateSubMatrix extracts the local rows, then
// builds the parallel matrix from them, assembling the diagonal block again on the way: at 2
// ranks 108 assemblies for TRON's 27 extractions against 27 at 1, so each rank did about twice
// the one-rank work per row, and the extraction alone held box_qp_bilevel's weak scaling to
// 0.83 (docs/scaling.md). Here the blocks' arrays are written in one pass over the selected
// rows, handed to PETSc without a copy, and the parallel matrix assembled once.
#include "bilevel/core/petsc_handle.hpp"

#include <petscmat.h>

namespace bilevel {

/// H(F, F) through MatCreateSubMatrix (so -log_view counts it as MatCreateSubMat), by the
/// one-pass construction when it applies: H of type seqaij or mpiaij with rows and columns
/// distributed alike, and F's local indices strictly increasing within the rows this rank
/// owns. The result's rows are distributed as F's. Otherwise PETSc's own extraction. Collective.
OwnedMat principal_submatrix(Mat H, IS rows);

/// While it lives, every MatCreateSubMatrix(H, F, F, ...) on H (also those made inside PETSc,
/// as TAO's active-set solvers make them) is principal_submatrix's construction where it
/// applies and PETSc's extraction where not. A scope inside another on the same matrix leaves
/// it to the outer one.
class PrincipalSubmatrixScope {
public:
  explicit PrincipalSubmatrixScope(Mat H);
  ~PrincipalSubmatrixScope();
  PrincipalSubmatrixScope(const PrincipalSubmatrixScope&) = delete;
  PrincipalSubmatrixScope& operator=(const PrincipalSubmatrixScope&) = delete;

private:
  Mat H_ = nullptr;
  /// PETSc's extraction, which the scope stands in front of (null for seqaij, whose
  /// MatCreateSubMatrix then goes through MatCreateSubMatrices).
  void (*original_)(void) = nullptr;
  bool nested_ = false;
};

} // namespace bilevel
