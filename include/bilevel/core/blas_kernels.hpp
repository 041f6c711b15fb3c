#pragma once
// Which kernels OpenBLAS runs. Debian's OpenBLAS picks them by the CPU's model at load time, and a
// model newer than the library falls back to "Prescott", SSE3 kernels: OpenBLAS 0.3.21 does not
// know Intel's family 6 model 207 (5th-generation Xeon), so on such a machine every dense product
// of the suite ran at a fraction of the rate its AVX2 units give, without a word. The choice can
// only be changed before the library is loaded (OPENBLAS_CORETYPE), hence the re-execution.
#include <string>

namespace bilevel {

/// Call first in main, before MPI: if OPENBLAS_CORETYPE is not set and OpenBLAS fell back to
/// Prescott on a CPU with AVX2 and FMA, re-executes the process with OPENBLAS_CORETYPE=Haswell.
/// Haswell's kernels, not the faster AVX-512 ones (1000^3 dgemm on a model-207 Xeon: Prescott 16,
/// Haswell 40, SkylakeX 73 GFLOP/s), because they are what OpenBLAS picks on the AVX2 machines
/// our stored references and docs/compatibility.md were made on, and products that round
/// differently change chaotic traces (BOME on toy_sc by 2e-4 relative over 200 iterations). A user
/// who wants SkylakeX's sets OPENBLAS_CORETYPE. Returns otherwise, also if the re-execution fails
/// (the run goes on with the slower kernels, which blas_kernels() names in the result file).
void select_blas_kernels(char** argv);

/// The kernels OpenBLAS runs (its core name, e.g. "Haswell"), or "not OpenBLAS".
std::string blas_kernels();

} // namespace bilevel
