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

void select_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) // the user's choice, or already re-executed
    return;
  const char* core = openblas_core();
  if (core == nullptr || std::strcmp(core, "Prescott") != 0)
    return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return;
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  execv("/proc/self/exe", argv); // returns only if it failed
}

std::string blas_kernels() {
  const char* core = openblas_core();
  return core ? core : "not OpenBLAS";
}

} // namespace bilevel
