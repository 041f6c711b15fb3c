// GoogleTest under MPI: every rank runs every test (they are collective); only rank 0 prints.
// GoogleTest parses its flags before PETSc starts, so PETSc never sees them.
#include "bilevel/core/blas_kernels.hpp"
#include "bilevel/core/log_events.hpp"

#include <gtest/gtest.h>
#include <petscsys.h>

int main(int argc, char** argv) {
  bilevel::select_blas_kernels(argv); // before MPI: it may re-execute the process
  ::testing::InitGoogleTest(&argc, argv);
  if (PetscInitialize(&argc, &argv, nullptr, nullptr) != 0)
    return 1;
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  // A test failing on any rank fails the run on every rank.
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  PetscFinalize();
  return failed;
}
