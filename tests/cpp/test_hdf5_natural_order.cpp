// Distributed Vecs in files are in natural (global index) order whatever the rank count: a DMDA
// Vec's dataset is its grid row by row (i fastest), not PETSc's per-rank block order, and reading
// the dataset back puts every value at its grid point again. Without this, results written at one
// rank count are permuted at another (-x_from, -restart_from, comparisons between runs).
#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/io/hdf5.hpp"

#include <gtest/gtest.h>
#include <petscdmda.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace bilevel::test {
namespace {

/// One path for every rank (rank 0's process id), removed when the test ends.
class SharedTempFile {
public:
  explicit SharedTempFile(const std::string& stem) {
    long long pid = static_cast<long long>(getpid());
    MPI_Bcast(&pid, 1, MPI_LONG_LONG, 0, PETSC_COMM_WORLD);
    path_ =
        (std::filesystem::temp_directory_path() / (stem + std::to_string(pid) + ".h5")).string();
  }
  SharedTempFile(const SharedTempFile&) = delete;
  SharedTempFile& operator=(const SharedTempFile&) = delete;
  ~SharedTempFile() {
    MPI_Barrier(PETSC_COMM_WORLD);
    int rank = 0;
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    if (rank == 0)
      std::filesystem::remove(path_);
  }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

TEST(Hdf5NaturalOrder, DmdaVecIsStoredInGridOrderAndReadBackInPlace) {
  // 8 x 6 points: PETSc splits it in x at 2 ranks and in both directions at 4, where its
  // ordering (each rank's block contiguous) differs from the grid's.
  constexpr PetscInt mx = 8, my = 6;
  OwnedDM da;
  BB_PETSC(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, mx,
                        my, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, da.receive()));
  BB_PETSC(DMSetUp(da));
  OwnedVec v;
  BB_PETSC(DMCreateGlobalVector(da, v.receive()));
  PetscInt xs = 0, ys = 0, xm = 0, ym = 0;
  BB_PETSC(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  PetscScalar** grid = nullptr;
  BB_PETSC(DMDAVecGetArray(da, v, &grid));
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i)
      grid[j][i] = static_cast<double>(j * mx + i); // the natural index
  BB_PETSC(DMDAVecRestoreArray(da, v, &grid));

  const SharedTempFile file("bilevel_natural_order_");
  {
    h5::File out = h5::open_file(PETSC_COMM_WORLD, file.path(), "w");
    h5::write_vec(out, "v", v);
  }
  h5::File in = h5::open_file(PETSC_COMM_WORLD, file.path(), "r");
  const std::vector<double> stored = h5::read_all(in, "v");
  ASSERT_EQ(stored.size(), static_cast<std::size_t>(mx * my));
  for (std::size_t k = 0; k < stored.size(); ++k)
    ASSERT_EQ(stored[k], static_cast<double>(k)) << "dataset entry " << k;

  OwnedVec back = duplicate(v);
  BB_PETSC(VecSet(back, -1.0));
  h5::read_vec(in, "v", back);
  PetscBool equal = PETSC_FALSE;
  BB_PETSC(VecEqual(back, v, &equal));
  EXPECT_TRUE(equal);
}

} // namespace
} // namespace bilevel::test
