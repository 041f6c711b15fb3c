#pragma once
// The register-tiled products of row_block_pass, for features stored as doubles or as bytes,
// compiled once per instruction set: `avx512` (row_block_kernels_avx512.cpp, built with
// -mavx512f) and `baseline` (x86-64 without extensions). row_block_pass picks one set by the CPU
// it runs on. This header includes nothing that defines inline functions,
// so the AVX-512 translation unit cannot hand the linker a copy that the rest of the program
// would call.
#include <cstddef>
#include <cstdint>

namespace bilevel::row_block_kernels {

/// Classes of the weight matrices (row_block_pass checks it is FashionMnist::kClasses).
inline constexpr int kClasses = 10;
/// Rows per register tile of the score kernel.
inline constexpr std::ptrdiff_t kTile = 16;
/// Doubles per vector: the row offsets of the kernels' loads are multiples of it.
inline constexpr std::ptrdiff_t kLanes = 8;

#define BILEVEL_ROW_BLOCK_KERNELS(isa)                                                             \
  namespace isa {                                                                                  \
  /** S = X W for `rows` (a multiple of kTile) rows of column-major X (leading dimension ldx);     \
      W row-major features x classes; S column-major with leading dimension lds. */                \
  template <class Element>                                                                         \
  void scores(const Element* x, std::ptrdiff_t ldx, std::ptrdiff_t rows, std::ptrdiff_t features,  \
              const double* w, double* s, std::ptrdiff_t lds);                                     \
  /** G += X' R for `rows` (a multiple of kLanes) rows; R column-major with leading dimension      \
      ldr, G row-major features x classes. */                                                      \
  template <class Element>                                                                         \
  void transpose_product(const Element* x, std::ptrdiff_t ldx, std::ptrdiff_t rows,                \
                         std::ptrdiff_t features, const double* r, std::ptrdiff_t ldr, double* g); \
  /** Each of `rows` rows of S (column-major, leading dimension lds, kClasses columns) replaced    \
      by its softmax probabilities. */                                                             \
  void softmax(double* s, std::ptrdiff_t lds, std::ptrdiff_t rows);                                \
  }

BILEVEL_ROW_BLOCK_KERNELS(avx512)
BILEVEL_ROW_BLOCK_KERNELS(baseline)
#undef BILEVEL_ROW_BLOCK_KERNELS

} // namespace bilevel::row_block_kernels
