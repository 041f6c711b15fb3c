// VecGatherer, the gather of every replicated problem's oracles: it must hand back the whole
// Vec on every rank count, and a changed Vec's new values, never the ones it remembered: a
// stale gather would make every replicated oracle silently wrong.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

OwnedVec distributed(PetscInt n) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n, v.receive()));
  return v;
}

TEST(VecGatherer, GivesTheWholeVectorAndFollowsItsChanges) {
  constexpr PetscInt n = 37; // no rank count of the tests divides it
  OwnedVec v = distributed(n);
  fill_random(v, 1);
  const Eigen::VectorXd first = gather_to_all(v);

  VecGatherer gatherer;
  EXPECT_EQ(gatherer.gather(v), first);
  EXPECT_EQ(gatherer.gather(v), first); // remembered: the same values

  BB_PETSC(VecScale(v, 2.0));
  EXPECT_EQ(gatherer.gather(v), 2.0 * first);

  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  PetscScalar* values = nullptr;
  BB_PETSC(VecGetArray(v, &values));
  for (PetscInt i = begin; i < end; ++i)
    values[i - begin] = static_cast<double>(i);
  BB_PETSC(VecRestoreArray(v, &values));
  EXPECT_EQ(gatherer.gather(v), Eigen::VectorXd::LinSpaced(n, 0.0, n - 1.0));
}

TEST(VecGatherer, KeepsEachVecApartWhenMoreThanItRemembers) {
  // Six Vecs of two layouts through a memory of four, twice: every gather must be its own Vec's.
  std::vector<OwnedVec> vecs;
  std::vector<Eigen::VectorXd> expected;
  for (int k = 0; k < 6; ++k) {
    vecs.push_back(distributed(k % 2 ? 11 : 29));
    fill_random(vecs.back(), static_cast<std::uint64_t>(10 + k));
    expected.push_back(gather_to_all(vecs.back()));
  }
  VecGatherer gatherer;
  for (int round = 0; round < 2; ++round)
    for (std::size_t k = 0; k < vecs.size(); ++k)
      EXPECT_EQ(gatherer.gather(vecs[k]), expected[k]) << "round " << round << ", Vec " << k;
}

} // namespace
} // namespace bilevel::test
