#pragma once
// H(F, F), the principal submatrix of an AIJ matrix on a set F of its rows: the free-set matrix
// that active-set methods solve with (TAO's TRON on the lower QP's free face, the box QP's and
// the VI's free-set adjoints). PETSc's general MatCreateSubMatrix extracts the local rows into
// sequential blocks (each assembled), then builds the parallel matrix from copies of them (both
// assembled again): on box_qp_bilevel at 2 ranks its 27 extractions took 0.93 s against 0.49 s
// at 1 rank on half the rows. Here both blocks' arrays are written in one pass over the selected
// rows and handed to PETSc without a copy, and PETSc's search for inodes is skipped where H has
// none: a 74 % free set of a tridiagonal matrix takes 5.5 ms per call at 1 rank (5e5 rows) and
// 9.5 ms at 2 (1e6 rows), against 7.2 and 15.2 ms when only the diagonal block was built this way
// and 9.6 and 22.8 ms by PETSc's extraction (docs/scaling.md).
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
