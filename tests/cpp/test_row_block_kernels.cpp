// The one-pass kernels of both instruction sets (row_block_kernels.hpp) on the same random
// data: the tests of the oracles exercise only the set the test machine's CPU selects, so the
// other one is checked here against it, for features stored as doubles and as bytes. The AVX-512
// set is compared only where the CPU has it. Sums in a different order (fused multiply-adds)
// agree to 1e-14 relative.
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/problems/row_block_kernels.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cstdint>

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

} // namespace
} // namespace bilevel::test
