#pragma once
// The free-set extraction H(F, F) of TAO's TRON and of the free-set adjoints (principal_submatrix),
// on box_qp_bilevel's shape: a tridiagonal H with kRowsPerRank rows per rank (the weak-scaling
// study's half size on each rank) and a free set of about 74 % of the rows, TRON's share on that
// instance. Registered twice, so that the same run gives the peer: free_set/principal_submatrix
// and free_set/petsc_extraction (PETSc's MatCreateSubMatrix on the same H and F). Each reports
// its time against the bytes it must move (docs/scaling.md).
#include "harness.hpp"

#include "bilevel/core/petsc_handle.hpp"

#include <petscmat.h>

namespace bench {

class FreeSetExtraction {
public:
  static constexpr PetscInt kRowsPerRank = 500000;

  explicit FreeSetExtraction(MPI_Comm comm);
  void register_benchmarks(MPI_Comm comm, const Limits& limits);

private:
  /// Read H's row pointers and the free rows' entries, write the submatrix's (12 bytes per
  /// entry, 8 per row pointer); the ranks' sum.
  Cost cost() const;

  bilevel::OwnedMat H_;
  bilevel::OwnedIS free_;
  double rows_ = 0, free_rows_ = 0, free_entries_ = 0;
};

} // namespace bench
