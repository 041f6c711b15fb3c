// Rank groups: G contiguous, balanced groups whose communicators partition the parent, and a
// balanced block split of work items among groups.
#include "bilevel/core/error.hpp"
#include "bilevel/core/rank_groups.hpp"

#include <gtest/gtest.h>
#include <petscsys.h>

#include <vector>

namespace bilevel {
namespace {

TEST(RankGroups, PartitionTheParentCommunicator) {
  int size = 1, rank = 0;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  for (int groups = 1; groups <= size; ++groups) {
    const RankGroups split(PETSC_COMM_WORLD, groups);
    EXPECT_EQ(split.count(), groups);
    int group_size = 0;
    MPI_Comm_size(split.group_comm(), &group_size);
    // Sizes differ by at most one, and summing one per rank over each group gives the sizes.
    int ones = 1, counted = 0;
    MPI_Allreduce(&ones, &counted, 1, MPI_INT, MPI_SUM, split.group_comm());
    EXPECT_EQ(counted, group_size);
    EXPECT_GE(group_size, size / groups);
    EXPECT_LE(group_size, size / groups + 1);
    // Groups are contiguous and ordered: the group index never decreases with the rank.
    std::vector<int> indices(static_cast<std::size_t>(size));
    const int mine = split.index();
    MPI_Allgather(&mine, 1, MPI_INT, indices.data(), 1, MPI_INT, PETSC_COMM_WORLD);
    for (int r = 1; r < size; ++r)
      EXPECT_LE(indices[static_cast<std::size_t>(r - 1)], indices[static_cast<std::size_t>(r)]);
    EXPECT_EQ(indices.back(), groups - 1);
  }
}

TEST(RankGroups, OwnedItemsCoverEveryItemOnce) {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const RankGroups split(PETSC_COMM_WORLD, size);
  const int n = 17;
  int begin = 0, end = 0;
  split.owned_items(n, begin, end);
  int owned = end - begin, total = 0;
  MPI_Allreduce(&owned, &total, 1, MPI_INT, MPI_SUM, PETSC_COMM_WORLD);
  EXPECT_EQ(total, n);
  EXPECT_LE(owned, n / size + 1);
}

TEST(RankGroups, TooManyGroupsIsAnInputError) {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  EXPECT_THROW(RankGroups(PETSC_COMM_WORLD, size + 1), InputError);
  EXPECT_THROW(RankGroups(PETSC_COMM_WORLD, 0), InputError);
}

} // namespace
} // namespace bilevel
