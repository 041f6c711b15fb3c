// The rule by which every executable widens OpenBLAS's kernels (select_blas_kernels), case by
// case: the machine the tests run on shows only one of them.
#include "bilevel/core/blas_kernels.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string widened(const char* core, bool avx512, bool avx2) {
  const char* wider = bilevel::wider_blas_kernels(core, avx512, avx2);
  return wider ? wider : "kept";
}

TEST(BlasKernels, AnAvx512CpuGetsAvx512Kernels) {
  EXPECT_EQ(widened("Prescott", true, true), "SkylakeX"); // 0.3.21 on a model-207 Xeon
  EXPECT_EQ(widened("Haswell", true, true), "SkylakeX");  // an AVX-512 CPU taken for an AVX2 one
  EXPECT_EQ(widened("Zen", true, true), "SkylakeX");
  EXPECT_EQ(widened("Cooperlake", true, true), "kept"); // 0.3.21 on a Zen 5
  EXPECT_EQ(widened("SkylakeX", true, true), "kept");
  EXPECT_EQ(widened("SapphireRapids", true, true), "kept");
}

TEST(BlasKernels, AnAvx2CpuLeavesOnlyTheSse3Fallback) {
  EXPECT_EQ(widened("Prescott", false, true), "Haswell");
  EXPECT_EQ(widened("Haswell", false, true), "kept");
  EXPECT_EQ(widened("Zen", false, true), "kept");
}

TEST(BlasKernels, AnOlderCpuKeepsOpenBlasChoice) {
  EXPECT_EQ(widened("Prescott", false, false), "kept");
  EXPECT_EQ(widened("Sandybridge", false, false), "kept");
}

} // namespace
