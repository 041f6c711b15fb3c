#include "bilevel/core/blas_kernels.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace bilevel {

namespace {

/// OpenBLAS's core name, looked up at run time: the BLAS behind libblas.so.3 may be another.
const char* openblas_core() {
  using CoreName = char* (*)();
  const auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return core_name ? core_name() : nullptr;
}

} // namespace

const char* wider_blas_kernels(std::string_view core, bool avx512, bool avx2) {
  // OpenBLAS's cores whose kernels use AVX-512 (0.3.21's names; later releases add more).
  const bool core_avx512 = core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
  if (avx512 && !core_avx512)
    return "SkylakeX";
  if (avx2 && core == "Prescott")
    return "Haswell";
  return nullptr;
}

void select_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) // the user's choice, or already re-executed
    return;
  const char* core = openblas_core();
  if (core == nullptr)
    return;
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* wider = wider_blas_kernels(core, avx512, avx2);
  if (wider == nullptr)
    return;
  setenv("OPENBLAS_CORETYPE", wider, 1);
  execv("/proc/self/exe", argv); // returns only if it failed
}

std::string blas_kernels() {
  const char* core = openblas_core();
  return core ? core : "not OpenBLAS";
}

} // namespace bilevel
