// The sum of columns handed over in blocks (solvers/column_sum.hpp) gives the bits of Eigen's
// rowwise().sum() of one matrix holding them all, at every block size, row count (packet rows
// and the odd rows past them) and column count (around the groups of four); and MinibatchOracles'
// means of a batch larger than its chunk, evaluated chunk by chunk, give the bits of the batch's
// columns summed at once (on one rank: the chunks are a rank's own business).
#include "test_support.hpp"

#include "bilevel/problems/finite_sum_quadratic.hpp"
#include "bilevel/solvers/column_sum.hpp"
#include "bilevel/solvers/minibatch_oracles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace bilevel::test {
namespace {

using Vector = Eigen::VectorXd;
using Matrix = Eigen::MatrixXd;

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() && (a.array() == b.array()).all();
}

/// Entries of very different magnitudes, so that any other order of the additions shows.
Matrix spread_columns(Eigen::Index rows, Eigen::Index cols, std::uint64_t stream) {
  const CounterRng rng(17, stream);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const auto k = static_cast<std::uint64_t>(2 * i);
    m.data()[i] = rng.normal(k) * std::exp(4.0 * rng.normal(k + 1));
  }
  return m;
}

TEST(ColumnSum, BlocksGiveTheBitsOfOneRowwiseSum) {
  std::uint64_t stream = 0;
  for (const Eigen::Index rows : {1, 2, 3, 7, 10, 101})
    for (const Eigen::Index cols : {0, 1, 2, 4, 5, 6, 8, 9, 13, 64, 301})
      for (const Eigen::Index block : {1, 3, 4, 7, 256}) {
        const Matrix m = spread_columns(rows, cols, ++stream);
        const Vector whole = cols > 0 ? Vector(m.rowwise().sum()) : Vector::Zero(rows);
        ColumnSum sum(rows, cols);
        for (Eigen::Index first = 0; first < cols; first += block)
          sum.add(Matrix(m.middleCols(first, std::min(block, cols - first))));
        EXPECT_TRUE(same_bits(sum.sum(), whole))
            << rows << " rows, " << cols << " columns, blocks of " << block;
      }
}

TEST(ColumnSum, OneEntryBlocksGiveTheBitsOfTheirSum) {
  const Eigen::Index rows = 12, cols = 40;
  std::vector<Eigen::Index> entries(cols);
  for (Eigen::Index k = 0; k < cols; ++k)
    entries[static_cast<std::size_t>(k)] = (5 * k) % rows; // every entry hit several times
  const Vector values = spread_columns(cols, 1, 3).col(0);
  const XColumns all = XColumns::one_entry(rows, entries, values);
  ColumnSum sum(rows, cols);
  for (Eigen::Index first = 0; first < cols; first += 7) {
    const Eigen::Index count = std::min<Eigen::Index>(7, cols - first);
    sum.add(XColumns::one_entry(rows, {entries.begin() + first, entries.begin() + first + count},
                                values.segment(first, count)));
  }
  EXPECT_TRUE(same_bits(sum.sum(), all.sum()));
}

TEST(MinibatchOracles, ABatchLargerThanAChunkGivesTheBitsOfItsColumnsSummedAtOnce) {
  ScopedOptions scoped("-problem_n_inner 300 -problem_n_outer 70 -problem_dim_inner 9 "
                       "-problem_dim_outer 4 -seed 5");
  FiniteSumQuadratic problem(MPI_COMM_SELF,
                             FiniteSumQuadratic::Config::from_options(current_run()));
  // Every lower sample three times (900 > kChunk, a last chunk of 132), the upper ones twice.
  std::vector<long long> lower(900), upper(140);
  for (std::size_t k = 0; k < lower.size(); ++k)
    lower[k] = static_cast<long long>((k * 7) % 300);
  for (std::size_t k = 0; k < upper.size(); ++k)
    upper[k] = static_cast<long long>(k % 70);
  ASSERT_GT(lower.size(), MinibatchOracles::kChunk);
  const Vector x = spread_columns(problem.nx(), 1, 5).col(0),
               y = spread_columns(problem.ny(), 1, 6).col(0),
               v = spread_columns(problem.ny(), 1, 7).col(0);
  const MinibatchRequest request{.lower = lower,
                                 .upper = upper,
                                 .lower_grad_x = true,
                                 .lower_grad_y = true,
                                 .hess_yy = true,
                                 .hess_xy = true,
                                 .upper_grad_x = true,
                                 .upper_grad_y = true,
                                 .v = &v};
  MinibatchOracles oracles(problem);
  const MinibatchMeans means = oracles.means(x, y, request);
  const SampleTerms t = oracles.terms(x, y, request);
  const double nl = 900.0, nu = 140.0;
  EXPECT_TRUE(same_bits(means.lower_grad_x, t.lower_grad_x.sum() / nl));
  EXPECT_TRUE(same_bits(means.lower_grad_y, Vector(t.lower_grad_y.rowwise().sum()) / nl));
  EXPECT_TRUE(same_bits(means.hess_yy, Vector(t.hess_yy.rowwise().sum()) / nl));
  EXPECT_TRUE(same_bits(means.hess_xy, t.hess_xy.sum() / nl));
  EXPECT_TRUE(same_bits(means.upper_grad_x, t.upper_grad_x.sum() / nu));
  EXPECT_TRUE(same_bits(means.upper_grad_y, Vector(t.upper_grad_y.rowwise().sum()) / nu));
  // Counted once per quantity for the whole batch, however many chunks evaluated it.
  EXPECT_EQ(problem.oracle_counts().calls(OracleKind::hessian_vector), 2);
}

} // namespace
} // namespace bilevel::test
