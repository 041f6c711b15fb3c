// The row_block_kernels for every x86-64 CPU (compiled with the library's flags).
#define BILEVEL_KERNEL_SET baseline
#include "row_block_kernels.tpp"
