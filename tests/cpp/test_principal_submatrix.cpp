// principal_submatrix, the free-set matrix of TRON and of the free-set adjoints: it must equal
// PETSc's own extraction entry for entry, with the same row distribution, on every rank count and
// for free sets that leave a rank empty, take everything or take nothing; and the scope must
// route PETSc's MatCreateSubMatrix through it (or back to PETSc's where it does not apply) and
// leave the matrix as it was.
#include "test_support.hpp"

#include "bilevel/core/principal_submatrix.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace bilevel::test {
namespace {

constexpr PetscInt kRows = 53; // no rank count of the tests divides it

// Tridiagonal plus two long-range entries per row, so every rank's rows reach columns of
// several other ranks; values from a counter generator, independent of the rank count.
OwnedMat scattered_matrix() {
  OwnedMat H;
  BB_PETSC(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, kRows, kRows, 5, nullptr, 4,
                        nullptr, H.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(MatGetOwnershipRange(H, &begin, &end));
  const CounterRng rng(7, 1);
  for (PetscInt i = begin; i < end; ++i) {
    const PetscInt columns[] = {i - 1, i, i + 1, (7 * i + 3) % kRows, (kRows - 1 - i + 5) % kRows};
    for (int e = 0; e < 5; ++e) {
      const PetscInt j = columns[e];
      if (j < 0 || j >= kRows)
        continue;
      const double value = rng.normal(static_cast<std::uint64_t>(i * kRows + j));
      BB_PETSC(MatSetValue(H, i, j, value, ADD_VALUES));
    }
  }
  BB_PETSC(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  return H;
}

// Rows in pairs with equal column patterns (2 x 2 blocks, each coupled to the neighbouring
// pairs): PETSc's assembly finds inodes in it.
OwnedMat paired_matrix() {
  constexpr PetscInt kPairs = 40;
  OwnedMat H;
  BB_PETSC(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, 2 * kPairs, 2 * kPairs, 6,
                        nullptr, 6, nullptr, H.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(MatGetOwnershipRange(H, &begin, &end));
  const CounterRng rng(11, 2);
  for (PetscInt i = begin; i < end; ++i) {
    const PetscInt pair = i / 2;
    for (PetscInt q = std::max<PetscInt>(pair - 1, 0); q <= std::min(pair + 1, kPairs - 1); ++q)
      for (PetscInt j = 2 * q; j < 2 * q + 2; ++j)
        BB_PETSC(MatSetValue(H, i, j, rng.normal(static_cast<std::uint64_t>(i * 1000 + j)),
                             INSERT_VALUES));
  }
  BB_PETSC(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  return H;
}

// The number of inodes PETSc found in the matrix's (diagonal) block: 0 if it uses none.
PetscInt inode_count(Mat A) {
  PetscBool mpi = PETSC_FALSE;
  BB_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(A), MATMPIAIJ, &mpi));
  Mat block = A;
  if (mpi)
    BB_PETSC(MatMPIAIJGetSeqAIJ(A, &block, nullptr, nullptr));
  PetscInt count = 0, limit = 0;
  PetscInt* sizes = nullptr;
  BB_PETSC(MatInodeGetInodeSizes(block, &count, &sizes, &limit));
  return count;
}

bool option_set(const char* name) {
  PetscBool set = PETSC_FALSE;
  BB_PETSC(PetscOptionsHasName(nullptr, nullptr, name, &set));
  return set;
}

// The owned rows i with keep(i), as an IS in the matrix's row distribution.
OwnedIS rows_where(Mat H, const std::function<bool(PetscInt)>& keep) {
  PetscInt begin = 0, end = 0;
  BB_PETSC(MatGetOwnershipRange(H, &begin, &end));
  std::vector<PetscInt> rows;
  for (PetscInt i = begin; i < end; ++i)
    if (keep(i))
      rows.push_back(i);
  OwnedIS is;
  BB_PETSC(ISCreateGeneral(PETSC_COMM_WORLD, static_cast<PetscInt>(rows.size()), rows.data(),
                           PETSC_COPY_VALUES, is.receive()));
  return is;
}

OwnedMat petsc_extraction(Mat H, IS rows) {
  OwnedMat sub;
  BB_PETSC(MatCreateSubMatrix(H, rows, rows, MAT_INITIAL_MATRIX, sub.receive()));
  return sub;
}

// Whether `sub` was built by principal_submatrix: it keeps the arrays it was built on.
bool built_in_one_pass(Mat sub) {
  PetscObject arrays = nullptr;
  BB_PETSC(PetscObjectQuery(reinterpret_cast<PetscObject>(sub),
                            "bilevel_principal_submatrix_arrays", &arrays));
  return arrays != nullptr;
}

// Same local sizes on every rank and the same entries: ||built - expected||_F == 0.
void expect_same(Mat built, Mat expected) {
  PetscInt m1 = 0, n1 = 0, m2 = 0, n2 = 0;
  BB_PETSC(MatGetLocalSize(built, &m1, &n1));
  BB_PETSC(MatGetLocalSize(expected, &m2, &n2));
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(n1, n2);
  OwnedMat difference;
  BB_PETSC(MatDuplicate(built, MAT_COPY_VALUES, difference.receive()));
  BB_PETSC(MatAXPY(difference, -1.0, expected, DIFFERENT_NONZERO_PATTERN));
  PetscReal norm = -1, size = 0;
  BB_PETSC(MatNorm(difference, NORM_FROBENIUS, &norm));
  BB_PETSC(MatNorm(expected, NORM_FROBENIUS, &size));
  EXPECT_EQ(norm, 0.0);
  // The product too: the parallel matrix's halo exchange must reach the right columns.
  OwnedVec x, y1, y2;
  BB_PETSC(MatCreateVecs(expected, x.receive(), y1.receive()));
  y2 = duplicate(y1);
  fill_random(x, 3);
  BB_PETSC(MatMult(built, x, y1));
  BB_PETSC(MatMult(expected, x, y2));
  EXPECT_LE(relative_error(y1, y2), 1e-15);
}

TEST(PrincipalSubmatrix, EqualsPetscsExtractionForEveryFreeSet) {
  const OwnedMat H = scattered_matrix();
  PetscMPIInt size = 1;
  BB_PETSC(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  const std::vector<std::pair<const char*, std::function<bool(PetscInt)>>> free_sets = {
      {"every third row missing", [](PetscInt i) { return i % 3 != 1; }},
      {"every row", [](PetscInt) { return true; }},
      {"only the last quarter (other ranks empty)", [](PetscInt i) { return i >= 40; }},
      {"alternate rows (no neighbour kept)", [](PetscInt i) { return i % 2 == 0; }},
      {"no row", [](PetscInt) { return false; }}};
  for (const auto& [name, keep] : free_sets) {
    SCOPED_TRACE(name);
    const OwnedIS rows = rows_where(H, keep);
    const OwnedMat built = principal_submatrix(H, rows);
    EXPECT_TRUE(built_in_one_pass(built));
    expect_same(built, petsc_extraction(H, rows));
  }
}

TEST(PrincipalSubmatrix, TakesAnMpiaijMatrixOnAnyCommunicatorSize) {
  // MATMPIAIJ explicitly, so that at 1 rank too the parallel construction is the one tested.
  const OwnedMat seq_or_mpi = scattered_matrix();
  OwnedMat H;
  BB_PETSC(MatConvert(seq_or_mpi, MATMPIAIJ, MAT_INITIAL_MATRIX, H.receive()));
  const OwnedIS rows = rows_where(H, [](PetscInt i) { return i % 3 != 0; });
  const OwnedMat built = principal_submatrix(H, rows);
  PetscBool mpi = PETSC_FALSE;
  BB_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(built.get()), MATMPIAIJ, &mpi));
  EXPECT_TRUE(mpi);
  expect_same(built, petsc_extraction(H, rows));
}

// PETSc searches each new block for inodes; the construction skips that search where H's block
// has none (the tridiagonal-like matrices of the free-set solves) and keeps it where H has them.
// It does so through -mat_no_inode for the call only: the option is gone afterwards, and a
// user's own setting of it stays.
TEST(PrincipalSubmatrix, SearchesForInodesOnlyWhereTheMatrixHasThem) {
  ASSERT_FALSE(option_set("-mat_no_inode"));
  const OwnedMat paired = paired_matrix();
  ASSERT_GT(inode_count(paired), 0);
  const OwnedIS every_other_pair = rows_where(paired, [](PetscInt i) { return i / 2 % 3 != 1; });
  const OwnedMat sub = principal_submatrix(paired, every_other_pair);
  EXPECT_TRUE(built_in_one_pass(sub));
  EXPECT_GT(inode_count(sub), 0);
  expect_same(sub, petsc_extraction(paired, every_other_pair));
  EXPECT_FALSE(option_set("-mat_no_inode"));

  const OwnedMat scattered = scattered_matrix();
  ASSERT_EQ(inode_count(scattered), 0);
  const OwnedIS rows = rows_where(scattered, [](PetscInt i) { return i % 3 != 1; });
  EXPECT_EQ(inode_count(principal_submatrix(scattered, rows)), 0);
  EXPECT_FALSE(option_set("-mat_no_inode"));

  BB_PETSC(PetscOptionsSetValue(nullptr, "-mat_no_inode", "false"));
  EXPECT_GT(inode_count(principal_submatrix(paired, every_other_pair)), 0);
  EXPECT_TRUE(option_set("-mat_no_inode"));
  BB_PETSC(PetscOptionsClearValue(nullptr, "-mat_no_inode"));
}

TEST(PrincipalSubmatrix, ScopeRoutesPetscsCallsAndRestoresTheMatrix) {
  const OwnedMat H = scattered_matrix();
  void (*before)(void) = nullptr;
  BB_PETSC(MatGetOperation(H, MATOP_CREATE_SUBMATRIX, &before));
  const OwnedIS rows = rows_where(H, [](PetscInt i) { return i % 4 != 0; });
  const OwnedMat expected = petsc_extraction(H, rows);
  {
    const PrincipalSubmatrixScope scope(H);
    const OwnedMat routed = petsc_extraction(H, rows);
    EXPECT_TRUE(built_in_one_pass(routed));
    expect_same(routed, expected);
    {
      const PrincipalSubmatrixScope inner(H); // nested: leaves it to the outer scope
      EXPECT_TRUE(built_in_one_pass(principal_submatrix(H, rows)));
    }
    EXPECT_TRUE(built_in_one_pass(petsc_extraction(H, rows)));
    // MAT_REUSE_MATRIX: the matrix kept by the caller becomes the new free set's block.
    const OwnedIS other_rows = rows_where(H, [](PetscInt i) { return i % 5 != 2; });
    OwnedMat reused = petsc_extraction(H, other_rows);
    Mat kept = reused;
    BB_PETSC(MatCreateSubMatrix(H, rows, rows, MAT_REUSE_MATRIX, &kept));
    EXPECT_EQ(kept, reused.get());
    expect_same(reused, expected);
    // An IS out of order is PETSc's to extract, also under the scope.
    PetscInt begin = 0, end = 0;
    BB_PETSC(MatGetOwnershipRange(H, &begin, &end));
    std::vector<PetscInt> reversed;
    for (PetscInt i = end - 1; i >= begin; --i)
      reversed.push_back(i);
    OwnedIS unsorted;
    BB_PETSC(ISCreateGeneral(PETSC_COMM_WORLD, static_cast<PetscInt>(reversed.size()),
                             reversed.data(), PETSC_COPY_VALUES, unsorted.receive()));
    const OwnedMat by_petsc = petsc_extraction(H, unsorted);
    EXPECT_FALSE(built_in_one_pass(by_petsc));
    PetscInt rows_total = 0;
    BB_PETSC(MatGetSize(by_petsc, &rows_total, nullptr));
    EXPECT_EQ(rows_total, kRows);
  }
  void (*after)(void) = nullptr;
  BB_PETSC(MatGetOperation(H, MATOP_CREATE_SUBMATRIX, &after));
  EXPECT_EQ(after, before);
  EXPECT_FALSE(built_in_one_pass(petsc_extraction(H, rows)));
}

} // namespace
} // namespace bilevel::test
