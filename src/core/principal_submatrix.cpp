#include "bilevel/core/principal_submatrix.hpp"

#include "bilevel/core/error.hpp"

#include <petscsf.h>

namespace bilevel {

namespace {

// Where MatCreateSubMatrix, called on a matrix under a scope, finds the scope.
constexpr const char* kScopeKey = "bilevel_principal_submatrix_scope";
// The diagonal block's arrays, composed on the block that uses them without a copy.
constexpr const char* kArraysKey = "bilevel_principal_submatrix_arrays";

struct CsrArrays {
  PetscInt* i = nullptr;
  PetscInt* j = nullptr;
  PetscScalar* a = nullptr;
};

PetscErrorCode free_csr_arrays(void* p) {
  PetscFunctionBeginUser;
  auto* arrays = static_cast<CsrArrays*>(p);
  PetscCall(PetscFree3(arrays->i, arrays->j, arrays->a));
  PetscCall(PetscFree(arrays));
  PetscFunctionReturn(0);
}

// Whether the one-pass construction applies, on every rank alike.
PetscErrorCode applies(Mat H, IS rows, PetscBool* result) {
  PetscFunctionBeginUser;
  PetscBool seq = PETSC_FALSE, mpi = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(H), MATSEQAIJ, &seq));
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(H), MATMPIAIJ, &mpi));
  PetscInt row_begin = 0, row_end = 0, column_begin = 0, column_end = 0, n = 0;
  PetscCall(MatGetOwnershipRange(H, &row_begin, &row_end));
  PetscCall(MatGetOwnershipRangeColumn(H, &column_begin, &column_end));
  PetscCall(ISGetLocalSize(rows, &n));
  const PetscInt* index = nullptr;
  PetscCall(ISGetIndices(rows, &index));
  int fits = (seq || mpi) && row_begin == column_begin && row_end == column_end;
  for (PetscInt k = 0; fits && k < n; ++k)
    fits = index[k] >= row_begin && index[k] < row_end && (k == 0 || index[k] > index[k - 1]);
  PetscCall(ISRestoreIndices(rows, &index));
  MPI_Comm comm = MPI_COMM_NULL;
  PetscCall(PetscObjectGetComm(reinterpret_cast<PetscObject>(H), &comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &fits, 1, MPI_INT, MPI_LAND, comm));
  *result = fits ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

// A SeqAIJ block's own arrays (no copy), read-only.
struct CsrView {
  PetscInt n_rows = 0;
  const PetscInt* ia = nullptr;
  const PetscInt* ja = nullptr;
  const PetscScalar* aa = nullptr;
};

PetscErrorCode get_csr(Mat block, CsrView* csr) {
  PetscFunctionBeginUser;
  PetscBool done = PETSC_FALSE;
  PetscCall(
      MatGetRowIJ(block, 0, PETSC_FALSE, PETSC_FALSE, &csr->n_rows, &csr->ia, &csr->ja, &done));
  PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "the AIJ block gave no row structure");
  PetscCall(MatSeqAIJGetArrayRead(block, &csr->aa));
  PetscFunctionReturn(0);
}

PetscErrorCode restore_csr(Mat block, CsrView* csr) {
  PetscFunctionBeginUser;
  PetscBool done = PETSC_FALSE;
  PetscCall(MatSeqAIJRestoreArrayRead(block, &csr->aa));
  PetscCall(
      MatRestoreRowIJ(block, 0, PETSC_FALSE, PETSC_FALSE, &csr->n_rows, &csr->ia, &csr->ja, &done));
  PetscFunctionReturn(0);
}

// The free rows of a block, each restricted to the columns whose new number new_column[c] is
// >= 0 and renumbered to new_column[c] - offset, as CSR arrays (PetscMalloc3: PetscFree3 them).
PetscErrorCode select_rows(const CsrView& csr, const PetscInt* free_rows, PetscInt n_free,
                           PetscInt row_begin, const PetscInt* new_column, PetscInt offset,
                           CsrArrays* out) {
  PetscFunctionBeginUser;
  // Sized for the selected rows' entries, of which those in unselected columns are dropped.
  PetscInt capacity = 0;
  for (PetscInt k = 0; k < n_free; ++k)
    capacity += csr.ia[free_rows[k] - row_begin + 1] - csr.ia[free_rows[k] - row_begin];
  PetscCall(PetscMalloc3(n_free + 1, &out->i, capacity + 1, &out->j, capacity + 1, &out->a));
  PetscInt count = 0;
  out->i[0] = 0;
  for (PetscInt k = 0; k < n_free; ++k) {
    const PetscInt r = free_rows[k] - row_begin;
    for (PetscInt e = csr.ia[r]; e < csr.ia[r + 1]; ++e) {
      const PetscInt c = new_column[csr.ja[e]];
      if (c >= 0) {
        out->j[count] = c - offset;
        out->a[count] = csr.aa[e];
        ++count;
      }
    }
    out->i[k + 1] = count;
  }
  PetscFunctionReturn(0);
}

// The block H(F, F) restricted to this rank's columns, on arrays the block keeps (no copy).
// new_index[r] is local row r's position in F (global numbering), -1 if r is not in F.
PetscErrorCode diagonal_block(Mat block, const PetscInt* free_rows, PetscInt n_free,
                              PetscInt row_begin, const PetscInt* new_index, PetscInt first,
                              Mat* out) {
  PetscFunctionBeginUser;
  CsrView csr;
  PetscCall(get_csr(block, &csr));
  CsrArrays* arrays = nullptr;
  PetscCall(PetscNew(&arrays));
  PetscCall(select_rows(csr, free_rows, n_free, row_begin, new_index, first, arrays));
  PetscCall(restore_csr(block, &csr));
  PetscCall(MatCreateSeqAIJWithArrays(PETSC_COMM_SELF, n_free, n_free, arrays->i, arrays->j,
                                      arrays->a, out));
  PetscContainer container = nullptr;
  PetscCall(PetscContainerCreate(PETSC_COMM_SELF, &container));
  PetscCall(PetscContainerSetPointer(container, arrays));
  PetscCall(PetscContainerSetUserDestroy(container, free_csr_arrays));
  PetscCall(PetscObjectCompose(reinterpret_cast<PetscObject>(*out), kArraysKey,
                               reinterpret_cast<PetscObject>(container)));
  PetscCall(PetscContainerDestroy(&container));
  PetscFunctionReturn(0);
}

// The block H(F, F) restricted to other ranks' columns, with its columns numbered locally and
// *garray (PetscMalloc'd, the caller's) mapping them to global positions in F. Small: the
// halo of this rank's rows.
PetscErrorCode off_diagonal_block(Mat H, Mat block, const PetscInt* ghost_columns,
                                  const PetscInt* free_rows, PetscInt n_free, PetscInt row_begin,
                                  const PetscInt* new_index, Mat* out, PetscInt** garray) {
  PetscFunctionBeginUser;
  PetscInt n_ghosts = 0;
  PetscCall(MatGetSize(block, nullptr, &n_ghosts));
  // Each ghost column's position in F, from the rank that owns it.
  PetscInt* ghost_index = nullptr;
  PetscCall(PetscMalloc1(n_ghosts + 1, &ghost_index));
  PetscSF sf = nullptr;
  PetscLayout columns = nullptr;
  PetscCall(MatGetLayouts(H, nullptr, &columns));
  PetscCall(PetscSFCreate(PetscObjectComm(reinterpret_cast<PetscObject>(H)), &sf));
  PetscCall(
      PetscSFSetGraphLayout(sf, columns, n_ghosts, nullptr, PETSC_COPY_VALUES, ghost_columns));
  PetscCall(PetscSFBcastBegin(sf, MPIU_INT, new_index, ghost_index, MPI_REPLACE));
  PetscCall(PetscSFBcastEnd(sf, MPIU_INT, new_index, ghost_index, MPI_REPLACE));
  PetscCall(PetscSFDestroy(&sf));
  // The selected ghosts, numbered in order (F's order is the rows' order, so still ascending).
  PetscInt* compact = nullptr;
  PetscInt n_kept = 0;
  PetscCall(PetscMalloc1(n_ghosts + 1, &compact));
  PetscCall(PetscMalloc1(n_ghosts + 1, garray));
  for (PetscInt g = 0; g < n_ghosts; ++g) {
    compact[g] = ghost_index[g] >= 0 ? n_kept : -1;
    if (ghost_index[g] >= 0)
      (*garray)[n_kept++] = ghost_index[g];
  }
  CsrView csr;
  PetscCall(get_csr(block, &csr));
  CsrArrays rows;
  PetscCall(select_rows(csr, free_rows, n_free, row_begin, compact, 0, &rows));
  PetscCall(restore_csr(block, &csr));
  // A SeqAIJ preallocated and assembled the usual way (MatCreateMPIAIJWithSeqAIJ takes over its
  // storage), its values set row by row where there are any: most rows have no halo entries,
  // and MatSeqAIJSetPreallocationCSR, which visits every row, made the extraction 20 % slower.
  PetscInt* row_length = nullptr;
  PetscCall(PetscMalloc1(n_free + 1, &row_length));
  for (PetscInt k = 0; k < n_free; ++k)
    row_length[k] = rows.i[k + 1] - rows.i[k];
  PetscCall(MatCreateSeqAIJ(PETSC_COMM_SELF, n_free, n_kept, 0, row_length, out));
  for (PetscInt k = 0; k < n_free; ++k)
    if (row_length[k] > 0)
      PetscCall(MatSetValues(*out, 1, &k, row_length[k], rows.j + rows.i[k], rows.a + rows.i[k],
                             INSERT_VALUES));
  PetscCall(MatAssemblyBegin(*out, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*out, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree(row_length));
  PetscCall(PetscFree3(rows.i, rows.j, rows.a));
  PetscCall(PetscFree(compact));
  PetscCall(PetscFree(ghost_index));
  PetscFunctionReturn(0);
}

// H(F, F) by the one-pass construction (applies() must hold).
PetscErrorCode build(Mat H, IS rows, Mat* out) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(H));
  PetscInt row_begin = 0, row_end = 0, n_free = 0, first = 0;
  PetscCall(MatGetOwnershipRange(H, &row_begin, &row_end));
  PetscCall(ISGetLocalSize(rows, &n_free));
  PetscCallMPI(MPI_Scan(&n_free, &first, 1, MPIU_INT, MPI_SUM, comm));
  first -= n_free;
  const PetscInt* free_rows = nullptr;
  PetscCall(ISGetIndices(rows, &free_rows));
  PetscInt* new_index = nullptr;
  PetscCall(PetscMalloc1(row_end - row_begin + 1, &new_index));
  for (PetscInt r = 0; r < row_end - row_begin; ++r)
    new_index[r] = -1;
  for (PetscInt k = 0; k < n_free; ++k)
    new_index[free_rows[k] - row_begin] = first + k;
  PetscBool sequential = PETSC_FALSE; // else mpiaij, also on one rank
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(H), MATSEQAIJ, &sequential));
  if (sequential) {
    PetscCall(diagonal_block(H, free_rows, n_free, row_begin, new_index, first, out));
  } else {
    Mat diagonal = nullptr, off_diagonal = nullptr, sub_diagonal = nullptr,
        sub_off_diagonal = nullptr;
    const PetscInt* ghost_columns = nullptr;
    PetscInt* garray = nullptr;
    PetscCall(MatMPIAIJGetSeqAIJ(H, &diagonal, &off_diagonal, &ghost_columns));
    PetscCall(
        diagonal_block(diagonal, free_rows, n_free, row_begin, new_index, first, &sub_diagonal));
    PetscCall(off_diagonal_block(H, off_diagonal, ghost_columns, free_rows, n_free, row_begin,
                                 new_index, &sub_off_diagonal, &garray));
    PetscCall(MatCreateMPIAIJWithSeqAIJ(comm, sub_diagonal, sub_off_diagonal, garray, out));
    PetscCall(PetscFree(garray));
  }
  PetscCall(PetscFree(new_index));
  PetscCall(ISRestoreIndices(rows, &free_rows));
  PetscCall(MatPropagateSymmetryOptions(H, *out));
  PetscFunctionReturn(0);
}

PetscErrorCode create_submatrix(Mat H, IS row_set, IS column_set, MatReuse reuse, Mat* out) {
  PetscFunctionBeginUser;
  PetscBool fast = PETSC_FALSE;
  if (row_set == column_set && reuse != MAT_INPLACE_MATRIX)
    PetscCall(applies(H, row_set, &fast));
  if (fast) {
    Mat built = nullptr;
    PetscCall(build(H, row_set, &built));
    if (reuse == MAT_REUSE_MATRIX)
      PetscCall(MatHeaderReplace(*out, &built));
    else
      *out = built;
    PetscFunctionReturn(0);
  }
  // PETSc's extraction: the scope steps aside for the call.
  PetscContainer container = nullptr;
  PetscCall(PetscObjectQuery(reinterpret_cast<PetscObject>(H), kScopeKey,
                             reinterpret_cast<PetscObject*>(&container)));
  PetscCheck(container, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no principal-submatrix scope on H");
  void* kept = nullptr;
  PetscCall(PetscContainerGetPointer(container, &kept));
  const auto original = *static_cast<void (**)(void)>(kept);
  PetscCall(MatSetOperation(H, MATOP_CREATE_SUBMATRIX, original));
  const PetscErrorCode code = MatCreateSubMatrix(H, row_set, column_set, reuse, out);
  PetscCall(MatSetOperation(H, MATOP_CREATE_SUBMATRIX,
                            reinterpret_cast<void (*)(void)>(create_submatrix)));
  PetscCall(code);
  PetscFunctionReturn(0);
}

} // namespace

PrincipalSubmatrixScope::PrincipalSubmatrixScope(Mat H) : H_(H) {
  BB_PETSC(MatGetOperation(H_, MATOP_CREATE_SUBMATRIX, &original_));
  nested_ = original_ == reinterpret_cast<void (*)(void)>(create_submatrix);
  if (nested_) // an outer scope on H is in place and stays responsible
    return;
  PetscContainer container = nullptr;
  BB_PETSC(PetscContainerCreate(PETSC_COMM_SELF, &container));
  BB_PETSC(PetscContainerSetPointer(container, &original_));
  BB_PETSC(PetscObjectCompose(reinterpret_cast<PetscObject>(H_), kScopeKey,
                              reinterpret_cast<PetscObject>(container)));
  BB_PETSC(PetscContainerDestroy(&container));
  BB_PETSC(MatSetOperation(H_, MATOP_CREATE_SUBMATRIX,
                           reinterpret_cast<void (*)(void)>(create_submatrix)));
}

PrincipalSubmatrixScope::~PrincipalSubmatrixScope() {
  if (nested_)
    return;
  // Failures here cannot be reported (a destructor, possibly during unwinding).
  (void)MatSetOperation(H_, MATOP_CREATE_SUBMATRIX, original_);
  (void)PetscObjectCompose(reinterpret_cast<PetscObject>(H_), kScopeKey, nullptr);
}

OwnedMat principal_submatrix(Mat H, IS rows) {
  const PrincipalSubmatrixScope scope(H);
  OwnedMat sub;
  BB_PETSC(MatCreateSubMatrix(H, rows, rows, MAT_INITIAL_MATRIX, sub.receive()));
  return sub;
}

} // namespace bilevel
