// SampleMemory's SAGA estimate on a hand-made sequence of batches, one rank owning every sample
// (the reduction between stage() and finish() is then the identity): the estimate is
// (1/b) sum (term - memory) + mean(memory), a sample drawn twice counts twice in it but once in
// the mean, and the mean stays the mean of the last terms stored.
#include "bilevel/solvers/sample_memory.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace bilevel {
namespace {

using Vector = Eigen::VectorXd;

TEST(SampleMemory, SagaEstimateCountsARepeatTwiceAndTheMeanFollowsTheTable) {
  const long long n = 5;
  SampleMemory memory({0, n}, n, 2);
  const Vector t1 = Vector::LinSpaced(2, 1.0, 2.0), t3 = Vector::LinSpaced(2, -3.0, 5.0);
  // Batch {1, 3, 1} from a zero memory: D = (2 t1 + t3) / 3, the mean becomes (t1 + t3) / 5.
  const std::vector<long long> first = {1, 3, 1};
  Eigen::MatrixXd terms(2, 3);
  terms << t1, t3, t1;
  const Vector d1 = memory.finish(memory.stage(first, terms), 3);
  EXPECT_LE((d1 - (2 * t1 + t3) / 3).norm(), 1e-15);
  EXPECT_LE((memory.mean() - (t1 + t3) / n).norm(), 1e-15);
  // Batch {1, 4}: D = ((u1 - t1) + u4) / 2 + (t1 + t3) / 5, then the mean of {u1, t3, u4}.
  const Vector u1 = Vector::Constant(2, 7.0), u4 = Vector::LinSpaced(2, 0.5, -0.5);
  const std::vector<long long> second = {1, 4};
  Eigen::MatrixXd terms2(2, 2);
  terms2 << u1, u4;
  const Vector d2 = memory.finish(memory.stage(second, terms2), 2);
  EXPECT_LE((d2 - ((u1 - t1 + u4) / 2 + (t1 + t3) / n)).norm(), 1e-14);
  EXPECT_LE((memory.mean() - (u1 + t3 + u4) / n).norm(), 1e-15);
}

} // namespace
} // namespace bilevel
