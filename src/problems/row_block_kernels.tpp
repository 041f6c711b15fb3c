// The bodies of the row_block_kernels, included once per instruction set by
// row_block_kernels_<set>.cpp, which defines BILEVEL_KERNEL_SET and is compiled for that set.
// Everything here has internal linkage except the explicit instantiations at the end, and only
// headers without inline functions are included: a translation unit compiled for AVX-512 must
// not give the linker a copy of a shared function that the rest of the program might call.
#include "bilevel/problems/row_block_kernels.hpp"

#include <cstring>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

// The helpers take and return 64-byte vectors, which GCC warns changes the ABI without AVX-512;
// they are always inlined, so no call passes one.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace bilevel::row_block_kernels::BILEVEL_KERNEL_SET {

namespace {

using Index = std::ptrdiff_t;
typedef double Lanes __attribute__((vector_size(64)));
typedef long long LaneIndex __attribute__((vector_size(64)));
static_assert(sizeof(Lanes) == kLanes * sizeof(double));
static_assert(kClasses >= kLanes, "a weight row must fill one vector");

// How far ahead the score kernel prefetches each column's next rows: a column-major block
// touches every column kTile rows at a time, more streams than the hardware prefetcher follows.
// Two double tiles; the same bytes of a byte column.
constexpr Index kPrefetchBytes = 2 * kTile * sizeof(double);

[[gnu::always_inline]] inline Lanes load(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
/// Eight bytes as eight doubles (exact: every byte is an integer a double holds).
[[gnu::always_inline]] inline Lanes load(const std::uint8_t* p) {
#ifdef __AVX512F__
  // Zero-extend to 32 bits, then convert: two instructions. GCC 12 turns the same conversion
  // written with vector extensions into a byte-by-byte loop. (The all-lanes mask form, because
  // GCC 12 warns that the plain form's placeholder operand is uninitialised.)
  const __m256i words = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm512_maskz_cvtepi32_pd(0xFF, words);
#else
  Lanes v;
  for (int k = 0; k < kLanes; ++k)
    v[k] = p[k];
  return v;
#endif
}
[[gnu::always_inline]] inline void store(double* p, const Lanes& v) {
  std::memcpy(p, &v, sizeof v);
}
[[gnu::always_inline]] inline Lanes pair_sums(const Lanes& a, const Lanes& b, const LaneIndex& even,
                                              const LaneIndex& odd) {
  return __builtin_shuffle(a, b, even) + __builtin_shuffle(a, b, odd);
}
/// The lane sums of v[0..7] as one vector (lane k = sum of v[k]): three rounds of shuffles and
/// adds instead of eight separate reductions.
[[gnu::always_inline]] inline Lanes lane_sums(const Lanes* v) {
  const LaneIndex e1 = {0, 8, 2, 10, 4, 12, 6, 14}, o1 = {1, 9, 3, 11, 5, 13, 7, 15};
  const LaneIndex e2 = {0, 1, 8, 9, 4, 5, 12, 13}, o2 = {2, 3, 10, 11, 6, 7, 14, 15};
  const LaneIndex e3 = {0, 1, 2, 3, 8, 9, 10, 11}, o3 = {4, 5, 6, 7, 12, 13, 14, 15};
  const Lanes s01 = pair_sums(v[0], v[1], e1, o1), s23 = pair_sums(v[2], v[3], e1, o1);
  const Lanes s45 = pair_sums(v[4], v[5], e1, o1), s67 = pair_sums(v[6], v[7], e1, o1);
  return pair_sums(pair_sums(s01, s23, e2, o2), pair_sums(s45, s67, e2, o2), e3, o3);
}

/// e^x in every lane, for x <= 0 (the softmax's scores minus their row's maximum), within 2
/// units in the last place (tests/cpp/test_row_block_kernels.cpp): x = k ln 2 + r with |r| <= ln(2)
/// / 2, e^r by its Taylor polynomial of degree 13 (remainder below 4e-18), times 2^k built in the
/// exponent bits. 2^k is applied in two halves so that results down to the smallest subnormal come
/// out right; x below -746 gives 0.
[[gnu::always_inline]] inline Lanes exp_nonpositive(Lanes x) {
  constexpr double kLog2e = 0x1.71547652b82fep0;
  // ln 2 split in a head with 32 trailing zero bits (k * head is exact for |k| < 2^21) and a tail.
  constexpr double kLn2Head = 0x1.62e42feep-1, kLn2Tail = 0x1.a39ef35793c76p-33;
  // Adding 1.5 * 2^52 rounds to an integer and leaves it in the low bits of the mantissa.
  constexpr double kShifter = 0x1.8p52;
  const Lanes floor = Lanes{} - 746.0;
  x = x < floor ? floor : x;
  const Lanes shifted = x * kLog2e + kShifter;
  const Lanes k = shifted - kShifter;
  const Lanes r = (x - k * kLn2Head) - k * kLn2Tail;
  // 1/n! for n = 13 down to 2, then r + 1 by hand.
  constexpr double kInverseFactorials[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                                           1.0 / 3628800.0,    1.0 / 362880.0,    1.0 / 40320.0,
                                           1.0 / 5040.0,       1.0 / 720.0,       1.0 / 120.0,
                                           1.0 / 24.0,         1.0 / 6.0,         1.0 / 2.0};
  Lanes p = Lanes{} + kInverseFactorials[0];
  for (std::size_t n = 1; n < sizeof kInverseFactorials / sizeof(double); ++n)
    p = p * r + kInverseFactorials[n];
  p = (p * r + 1.0) * r + 1.0;
  const LaneIndex exponent =
      __builtin_bit_cast(LaneIndex, shifted) - __builtin_bit_cast(long long, kShifter);
  const LaneIndex half = exponent >> 1;
  const auto power = [](const LaneIndex& e) { return __builtin_bit_cast(Lanes, (e + 1023) << 52); };
  return p * power(half) * power(exponent - half);
}

/// kLanes rows' softmax, in place: v[c] holds class c of every row.
[[gnu::always_inline]] inline void softmax_lanes(Lanes* v) {
  Lanes max = v[0];
  for (int c = 1; c < kClasses; ++c)
    max = v[c] > max ? v[c] : max;
  Lanes sum{};
  for (int c = 0; c < kClasses; ++c) {
    v[c] = exp_nonpositive(v[c] - max);
    sum += v[c];
  }
  const Lanes inverse = 1.0 / sum;
  for (int c = 0; c < kClasses; ++c)
    v[c] *= inverse;
}

/// Rows j .. j + kColumns - 1 of G += X' R over `rows` (a multiple of kLanes) rows.
template <int kColumns, class Element>
[[gnu::always_inline]] inline void transpose_product_columns(const Element* x, Index ldx,
                                                             Index rows, Index j, const double* r,
                                                             Index ldr, double* g) {
  Lanes sum[kColumns][kClasses];
  for (int k = 0; k < kColumns; ++k)
    for (int c = 0; c < kClasses; ++c)
      sum[k][c] = Lanes{};
  for (Index i = 0; i < rows; i += kLanes) {
    Lanes xi[kColumns];
    for (int k = 0; k < kColumns; ++k)
      xi[k] = load(x + (j + k) * ldx + i);
    for (int c = 0; c < kClasses; ++c) {
      Lanes rc = load(r + c * ldr + i);
#ifdef __AVX512F__
      // Keep rc in a register: GCC otherwise folds its load into each column's FMA, which
      // loads R kColumns times, and the loads, not the FMAs, then bound the loop.
      asm("" : "+v"(rc));
#endif
      for (int k = 0; k < kColumns; ++k)
        sum[k][c] += xi[k] * rc;
    }
  }
  // Classes 0-7 of a column are one vector of G's row; the remaining classes of all columns
  // share one more reduction.
  static_assert(kColumns * (kClasses - kLanes) <= kLanes);
  Lanes rest[kLanes] = {};
  for (int k = 0; k < kColumns; ++k) {
    double* gj = g + (j + k) * kClasses;
    store(gj, load(gj) + lane_sums(sum[k]));
    for (int c = kLanes; c < kClasses; ++c)
      rest[k * (kClasses - kLanes) + c - kLanes] = sum[k][c];
  }
  const Lanes rest_sums = lane_sums(rest);
  for (int k = 0; k < kColumns; ++k)
    for (int c = kLanes; c < kClasses; ++c)
      g[(j + k) * kClasses + c] += rest_sums[k * (kClasses - kLanes) + c - kLanes];
}

} // namespace

template <class Element>
void scores(const Element* x, Index ldx, Index rows, Index features, const double* w, double* s,
            Index lds) {
  constexpr Index ahead = kPrefetchBytes / static_cast<Index>(sizeof(Element));
  // Two 8-row vectors per class: 2 x 10 = 20 accumulators, inside AVX-512's 32 registers.
  static_assert(kTile == 2 * kLanes);
  for (Index i = 0; i < rows; i += kTile) {
    Lanes lo[kClasses], hi[kClasses];
    for (int c = 0; c < kClasses; ++c)
      lo[c] = hi[c] = Lanes{};
    for (Index j = 0; j < features; ++j) {
      const Element* xj = x + j * ldx + i;
      for (Index byte = 0; byte < kTile * static_cast<Index>(sizeof(Element)); byte += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(xj + ahead) + byte);
      const Lanes x_lo = load(xj), x_hi = load(xj + kLanes);
      const double* wj = w + j * kClasses;
      for (int c = 0; c < kClasses; ++c) {
        lo[c] += x_lo * wj[c];
        hi[c] += x_hi * wj[c];
      }
    }
    for (int c = 0; c < kClasses; ++c) {
      store(s + c * lds + i, lo[c]);
      store(s + c * lds + i + kLanes, hi[c]);
    }
  }
}

template <class Element>
void transpose_product(const Element* x, Index ldx, Index rows, Index features, const double* r,
                       Index ldr, double* g) {
  // Two columns of X at a time: 2 x 10 accumulators.
  Index j = 0;
  for (; j + 1 < features; j += 2)
    transpose_product_columns<2>(x, ldx, rows, j, r, ldr, g);
  if (j < features)
    transpose_product_columns<1>(x, ldx, rows, j, r, ldr, g);
}

void softmax(double* s, Index lds, Index rows) {
  Lanes v[kClasses];
  Index i = 0;
  for (; i + kLanes <= rows; i += kLanes) {
    for (int c = 0; c < kClasses; ++c)
      v[c] = load(s + c * lds + i);
    softmax_lanes(v);
    for (int c = 0; c < kClasses; ++c)
      store(s + c * lds + i, v[c]);
  }
  if (i == rows)
    return;
  // The last rows, fewer than kLanes, through a copy padded with zeros.
  const auto bytes = static_cast<std::size_t>(rows - i) * sizeof(double);
  double padded[kClasses][kLanes] = {};
  for (int c = 0; c < kClasses; ++c) {
    std::memcpy(padded[c], s + c * lds + i, bytes);
    v[c] = load(padded[c]);
  }
  softmax_lanes(v);
  for (int c = 0; c < kClasses; ++c) {
    store(padded[c], v[c]);
    std::memcpy(s + c * lds + i, padded[c], bytes);
  }
}

#define BILEVEL_INSTANTIATE(Element)                                                               \
  template void scores<Element>(const Element*, Index, Index, Index, const double*, double*,       \
                                Index);                                                            \
  template void transpose_product<Element>(const Element*, Index, Index, Index, const double*,     \
                                           Index, double*);
BILEVEL_INSTANTIATE(double)
BILEVEL_INSTANTIATE(std::uint8_t)
#undef BILEVEL_INSTANTIATE

} // namespace bilevel::row_block_kernels::BILEVEL_KERNEL_SET
