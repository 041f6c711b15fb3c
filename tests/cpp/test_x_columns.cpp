// The compact layouts of the x-derivative columns (problems/x_columns.hpp) against the dense
// matrices they stand for: the same column sums, and a SampleMemory of one-entry columns gives
// the same bits as a dense memory fed the dense columns, over batches with repeats and a sample
// whose entry moves. One rank owns every sample (the reduction between stage() and finish() is
// then the identity).
#include "bilevel/problems/x_columns.hpp"
#include "bilevel/solvers/sample_memory.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace bilevel {
namespace {

using Vector = Eigen::VectorXd;

/// Batch b's columns: sample i's entry is i (i + 1 for sample 2 from the third batch on).
XColumns batch_columns(const std::vector<long long>& batch, int b, Eigen::Index rows) {
  std::vector<Eigen::Index> entries;
  Vector values(static_cast<Eigen::Index>(batch.size()));
  for (std::size_t k = 0; k < batch.size(); ++k) {
    entries.push_back(static_cast<Eigen::Index>(batch[k]) + (batch[k] == 2 && b >= 2 ? 1 : 0));
    values[static_cast<Eigen::Index>(k)] =
        0.1 * static_cast<double>(b + 1) + 1.0 / static_cast<double>(batch[k] + 3 + k);
  }
  return XColumns::one_entry(rows, entries, values);
}

TEST(XColumns, OneEntryColumnsSumAndReadAsTheDenseMatrix) {
  const XColumns c = XColumns::one_entry(6, {3, 0, 3, 5}, Vector::LinSpaced(4, 0.3, -1.7));
  const Eigen::MatrixXd dense = c.to_dense();
  ASSERT_EQ(dense.rows(), 6);
  ASSERT_EQ(dense.cols(), 4);
  EXPECT_EQ(dense(3, 0), 0.3);
  EXPECT_EQ((dense.array() != 0.0).count(), 4); // nothing else is nonzero
  EXPECT_EQ(c.sum(), Vector(dense.rowwise().sum()));
  for (Eigen::Index k = 0; k < 4; ++k)
    EXPECT_EQ(c.column(k), Vector(dense.col(k)));
  const XColumns zero = XColumns::zero(6, 3);
  EXPECT_EQ(zero.sum(), Vector::Zero(6));
  EXPECT_EQ(zero.to_dense(), Eigen::MatrixXd::Zero(6, 3));
}

TEST(SampleMemory, OneEntryMemoryGivesTheDenseMemorysBits) {
  const long long n = 6;
  const Eigen::Index nx = 8;
  SampleMemory dense({0, n}, n, nx), compact({0, n}, n, nx, XLayout::one_entry),
      zero({0, n}, n, nx, XLayout::zero);
  const std::vector<std::vector<long long>> batches = {{1, 2, 1}, {2, 5}, {2, 0, 2, 4}, {1, 2}};
  for (int b = 0; b < static_cast<int>(batches.size()); ++b) {
    const XColumns terms = batch_columns(batches[static_cast<std::size_t>(b)], b, nx);
    const auto size = static_cast<long long>(batches[static_cast<std::size_t>(b)].size());
    const Vector d_dense = dense.finish(dense.stage(batches[b], terms.to_dense()), size);
    const Vector d_compact = compact.finish(compact.stage(batches[b], terms), size);
    EXPECT_EQ(d_compact, d_dense) << "batch " << b;
    EXPECT_EQ(compact.mean(), dense.mean()) << "batch " << b;
    const XColumns none = XColumns::zero(nx, static_cast<Eigen::Index>(size));
    EXPECT_EQ(zero.finish(zero.stage(batches[b], none), size), Vector::Zero(nx));
  }
  EXPECT_NE(dense.mean(), Vector::Zero(nx));
  // Columns in another layout than the memory's are a programming error.
  EXPECT_THROW(compact.stage(batches[0], XColumns::dense(Eigen::MatrixXd::Zero(nx, 3))),
               std::logic_error);
}

} // namespace
} // namespace bilevel
