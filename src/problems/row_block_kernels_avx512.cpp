// The row_block_kernels for CPUs with AVX-512 (CMakeLists.txt compiles this file with
// -mavx512f; row_block_pass calls them only where the CPU has it).
#define BILEVEL_KERNEL_SET avx512
#include "row_block_kernels.tpp"
