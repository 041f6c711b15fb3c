// The one-pass kernels of both instruction sets (row_block_kernels.hpp) on the same random
// data: the tests of the oracles exercise only the set the test machine's CPU selects, so the
// other one is checked here against it, for features stored as doubles and as bytes. The AVX-512
// set is compared only where the CPU has it. Sums in a different order (fused multiply-adds)
// agree to 1e-14 relative.
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/problems/row_block_kernels.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>
#include <cstdint>
#include <limits>

namespace bilevel::test {
namespace {

namespace kernels = row_block_kernels;
using kernels::kClasses;
using Weights = Eigen::Matrix<double, Eigen::Dynamic, kClasses, Eigen::RowMajor>;

constexpr Eigen::Index kRows = 3 * kernels::kTile, kFeatures = 37;

template <class Element> Eigen::Matrix<Element, Eigen::Dynamic, Eigen::Dynamic> random_x() {
  const CounterRng rng(21, 1);
  Eigen::Matrix<Element, Eigen::Dynamic, Eigen::Dynamic> x(kRows, kFeatures);
  for (Eigen::Index k = 0; k < x.size(); ++k)
    x.data()[k] = static_cast<Element>(rng.uniform(static_cast<std::uint64_t>(k)) * 255.0);
  return x;
}

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t stream) {
  const CounterRng rng(22, stream);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k)
    m.data()[k] = rng.normal(static_cast<std::uint64_t>(k));
  return m;
}

template <class Element> void expect_sets_agree() {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "this CPU has no AVX-512: only the baseline set runs here";
  const auto x = random_x<Element>();
  const Weights w = random_matrix(kFeatures, kClasses, 1);
  const Eigen::MatrixXd r = random_matrix(kRows, kClasses, 2);
  const Eigen::MatrixXd exact_s = x.template cast<double>() * w;
  const Weights exact_g = x.template cast<double>().transpose() * r;
  Eigen::MatrixXd s[2] = {Eigen::MatrixXd(kRows, kClasses), Eigen::MatrixXd(kRows, kClasses)};
  Weights g[2] = {Weights::Zero(kFeatures, kClasses), Weights::Zero(kFeatures, kClasses)};
  kernels::baseline::scores(x.data(), kRows, kRows, kFeatures, w.data(), s[0].data(), kRows);
  kernels::avx512::scores(x.data(), kRows, kRows, kFeatures, w.data(), s[1].data(), kRows);
  kernels::baseline::transpose_product(x.data(), kRows, kRows, kFeatures, r.data(), kRows,
                                       g[0].data());
  kernels::avx512::transpose_product(x.data(), kRows, kRows, kFeatures, r.data(), kRows,
                                     g[1].data());
  for (int set = 0; set < 2; ++set) {
    EXPECT_LE((s[set] - exact_s).norm(), 1e-14 * exact_s.norm()) << "set " << set;
    EXPECT_LE((g[set] - exact_g).norm(), 1e-14 * exact_g.norm()) << "set " << set;
  }
}

TEST(RowBlockKernels, BothInstructionSetsComputeTheProductsOfDoubles) {
  expect_sets_agree<double>();
}
TEST(RowBlockKernels, BothInstructionSetsComputeTheProductsOfBytes) {
  expect_sets_agree<std::uint8_t>();
}

/// Each set's softmax against the long double exponential: every probability to 2 units in the
/// last place, on a row count that leaves a partial vector, with scores 2 to 800 apart (so that
/// some probabilities are subnormal or underflow to zero).
TEST(RowBlockKernels, SoftmaxIsAccurateToTheLastPlaces) {
  constexpr Eigen::Index rows = 2 * kernels::kTile + 5, lds = rows + 3;
  const CounterRng rng(23, 1);
  Eigen::MatrixXd scores(lds, kClasses);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index c = 0; c < kClasses; ++c) {
      const double spread = i % 3 == 0 ? 2.0 : i % 3 == 1 ? 40.0 : 400.0;
      scores(i, c) = spread * rng.normal(static_cast<std::uint64_t>(i * kClasses + c));
    }
  scores.bottomRows(lds - rows).setConstant(7.0); // beyond `rows`: must stay untouched
  Eigen::MatrixXd expected = scores;
  for (Eigen::Index i = 0; i < rows; ++i) {
    // The score minus the row's maximum is rounded to a double as in the kernel: a rounding of
    // x changes e^x by |x| units in the last place, which no exponential can undo.
    const auto shifted = (scores.row(i).array() - scores.row(i).maxCoeff()).eval();
    long double sum = 0;
    for (Eigen::Index c = 0; c < kClasses; ++c)
      sum += std::exp(static_cast<long double>(shifted[c]));
    for (Eigen::Index c = 0; c < kClasses; ++c)
      expected(i, c) = static_cast<double>(std::exp(static_cast<long double>(shifted[c])) / sum);
  }
  ASSERT_GT((expected.topRows(rows).array() == 0.0).count(), 0) << "no probability underflows";
  const auto check = [&](auto softmax, const char* set) {
    Eigen::MatrixXd s = scores;
    softmax(s.data(), lds, rows);
    for (Eigen::Index i = 0; i < lds; ++i)
      for (Eigen::Index c = 0; c < kClasses; ++c)
        EXPECT_LE(std::abs(s(i, c) - expected(i, c)),
                  0x1p-51 * expected(i, c) + std::numeric_limits<double>::denorm_min())
            << set << ": row " << i << ", class " << c << ", score " << scores(i, c);
  };
  check(kernels::baseline::softmax, "baseline");
  if (__builtin_cpu_supports("avx512f"))
    check(kernels::avx512::softmax, "avx512");
}

} // namespace
} // namespace bilevel::test
