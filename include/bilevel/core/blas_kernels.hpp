#pragma once
// Which kernels OpenBLAS runs. Debian's OpenBLAS 0.3.21 picks them by the CPU's model at load
// time. It does not know Intel's family 6 model 207 (5th-generation Xeon) and falls back to
// "Prescott", SSE3 kernels, on a CPU whose AVX-512 units run its SkylakeX ones. 1000^3 dgemm,
// GFLOP/s: model-207 Xeon Prescott 16, Haswell 40, SkylakeX 73; Zen 5 Haswell 52, SkylakeX 86 (its
// own choice there is Cooperlake, AVX-512). The choice can only be changed before the library is
// loaded (OPENBLAS_CORETYPE), hence the re-execution.
#include <string>
#include <string_view>

namespace bilevel {

/// Call first in main, before MPI: if OPENBLAS_CORETYPE is not set, re-executes the process with
/// the widest kernels the CPU runs when OpenBLAS chose narrower ones: SkylakeX's on a CPU with
/// AVX-512 (F, DQ, BW, VL) unless OpenBLAS already runs AVX-512 kernels, Haswell's instead of the
/// Prescott fallback on a CPU with AVX2 and FMA. A user's OPENBLAS_CORETYPE is kept. Returns
/// otherwise, also if the re-execution fails (the run goes on with the kernels OpenBLAS chose,
/// which blas_kernels() names in the result file). Kernels round differently in the last bits,
/// so the tests, which compare numbers with stored references, fix OPENBLAS_CORETYPE themselves.
void select_blas_kernels(char** argv);

/// The rule of select_blas_kernels: the kernels to re-execute with when OpenBLAS chose `core` on a
/// CPU with (or without) AVX-512 and AVX2, or nullptr to keep OpenBLAS's choice.
const char* wider_blas_kernels(std::string_view core, bool avx512, bool avx2);

/// The kernels OpenBLAS runs (its core name, e.g. "Haswell"), or "not OpenBLAS".
std::string blas_kernels();

} // namespace bilevel
