#include "bilevel/problems/row_block_pass.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

// The helpers below take and return 64-byte vectors, which GCC warns changes the ABI between
// the AVX-512 and the baseline clones; they are always inlined, so no call passes one.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace bilevel {

namespace {

constexpr int kClasses = FashionMnist::kClasses;
// Rows per register tile of the score kernel: two 8-double vectors per class, 2 x 10 = 20
// accumulators, inside AVX-512's 32 registers.
constexpr Eigen::Index kTile = 16;
// Rows per block: 128 x 785 doubles = 0.8 MB, inside the 1 MiB L2, so the second sweep over the
// block (X_b' R_b) reads cache, not memory. Measured: 64 and 256 rows are no faster.
constexpr Eigen::Index kBlock = 128;
// How many tiles ahead the score kernel prefetches each column's next rows: a column-major
// block touches 785 columns 16 rows at a time, too many streams for the hardware prefetcher.
constexpr Eigen::Index kPrefetchTiles = 2;

typedef double Lanes __attribute__((vector_size(64)));
typedef long long LaneIndex __attribute__((vector_size(64)));
constexpr int kLanes = 8;
static_assert(kClasses >= kLanes, "a weight row must fill one vector");
// The vectors are loaded at row offsets that are multiples of kLanes, from the pass's buffers
// (strides of whole 64-byte lines) and from X. With Eigen's arrays on line boundaries
// (CMakeLists.txt) no buffer load spans two lines, nor does a load from X when the rank's row
// count is a multiple of kLanes (then every column starts on a line). A residual buffer 16
// bytes off a line made the pass 1.5x slower (docs/performance.md).
static_assert(EIGEN_MAX_ALIGN_BYTES >= kLanes * sizeof(double),
              "Eigen's heap arrays must start on a 64-byte boundary");
static_assert(kBlock % kLanes == 0 && kTile % kLanes == 0, "strides of whole cache lines");

[[gnu::always_inline]] inline Lanes load(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
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

/// S = X W for `rows` (a multiple of kTile) rows of column-major X (leading dimension ldx);
/// W row-major features x kClasses; S column-major with leading dimension lds.
[[gnu::target_clones("avx512f", "default")]] void
scores_kernel(const double* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index features,
              const double* w, double* s, Eigen::Index lds) {
  for (Eigen::Index i = 0; i < rows; i += kTile) {
    Lanes lo[kClasses], hi[kClasses];
    for (int c = 0; c < kClasses; ++c)
      lo[c] = hi[c] = Lanes{};
    for (Eigen::Index j = 0; j < features; ++j) {
      const double* xj = x + j * ldx + i;
      __builtin_prefetch(xj + kPrefetchTiles * kTile);
      __builtin_prefetch(xj + kPrefetchTiles * kTile + kLanes);
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

/// Rows j .. j + kColumns - 1 of G += X' R over `rows` (a multiple of kLanes) rows; R
/// column-major with leading dimension ldr, G row-major features x kClasses.
template <int kColumns>
[[gnu::always_inline]] inline void
transpose_product_columns(const double* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index j,
                          const double* r, Eigen::Index ldr, double* g) {
  Lanes sum[kColumns][kClasses];
  for (int k = 0; k < kColumns; ++k)
    for (int c = 0; c < kClasses; ++c)
      sum[k][c] = Lanes{};
  for (Eigen::Index i = 0; i < rows; i += kLanes) {
    Lanes xi[kColumns];
    for (int k = 0; k < kColumns; ++k)
      xi[k] = load(x + (j + k) * ldx + i);
    for (int c = 0; c < kClasses; ++c) {
      const Lanes rc = load(r + c * ldr + i);
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

/// G += X' R for `rows` (a multiple of kLanes) rows, two columns of X at a time.
[[gnu::target_clones("avx512f", "default")]] void
transpose_product_kernel(const double* x, Eigen::Index ldx, Eigen::Index rows,
                         Eigen::Index features, const double* r, Eigen::Index ldr, double* g) {
  Eigen::Index j = 0;
  for (; j + 1 < features; j += 2)
    transpose_product_columns<2>(x, ldx, rows, j, r, ldr, g);
  if (j < features)
    transpose_product_columns<1>(x, ldx, rows, j, r, ldr, g);
}

void check_shape(const char* what, Eigen::Index rows, Eigen::Index cols, Eigen::Index features) {
  if (rows != features || cols != kClasses)
    throw std::logic_error(std::string("row_block_pass: ") + what + " is " + std::to_string(rows) +
                           " x " + std::to_string(cols) + ", expected " + std::to_string(features) +
                           " x " + std::to_string(kClasses));
}

} // namespace

void row_block_pass(const Eigen::MatrixXd& features, const WeightMatrix* w, const WeightMatrix* v,
                    WeightMatrix* accumulate, const std::function<void(RowBlock&)>& visit) {
  const Eigen::Index n = features.rows(), f = features.cols();
  if (w)
    check_shape("W", w->rows(), w->cols(), f);
  if (v)
    check_shape("V", v->rows(), v->cols(), f);
  if (accumulate)
    check_shape("the output", accumulate->rows(), accumulate->cols(), f);

  // Buffers with one spare tile: a block's last rows (fewer than kTile) are computed from a
  // zero-padded copy, whose zero rows add nothing to X' R.
  constexpr Eigen::Index stride = kBlock + kTile;
  Eigen::MatrixXd scores(w ? stride : 0, kClasses), directions(v ? stride : 0, kClasses),
      residual(accumulate ? stride : 0, kClasses);
  Eigen::MatrixXd tail = Eigen::MatrixXd::Zero(kTile, f);

  for (Eigen::Index first = 0; first < n; first += kBlock) {
    const Eigen::Index rows = std::min(kBlock, n - first);
    const Eigen::Index whole = rows / kTile * kTile;
    const double* block = features.data() + first;
    if (whole < rows)
      tail.topRows(rows - whole) = features.middleRows(first + whole, rows - whole);
    // The whole tiles read X in place, the remainder reads the padded copy.
    const auto scores_of = [&](const WeightMatrix& m, Eigen::MatrixXd& out) {
      scores_kernel(block, n, whole, f, m.data(), out.data(), stride);
      if (whole < rows)
        scores_kernel(tail.data(), kTile, kTile, f, m.data(), out.data() + whole, stride);
    };
    if (w)
      scores_of(*w, scores);
    if (v)
      scores_of(*v, directions);
    if (accumulate)
      residual.setZero();

    RowBlock view{
        first, rows,
        BlockMatrix(scores.data(), w ? rows : 0, kClasses, Eigen::OuterStride<>(stride)),
        BlockMatrix(directions.data(), v ? rows : 0, kClasses, Eigen::OuterStride<>(stride)),
        BlockMatrix(residual.data(), accumulate ? rows : 0, kClasses,
                    Eigen::OuterStride<>(stride))};
    visit(view);

    if (accumulate) {
      transpose_product_kernel(block, n, whole, f, residual.data(), stride, accumulate->data());
      if (whole < rows)
        transpose_product_kernel(tail.data(), kTile, kTile, f, residual.data() + whole, stride,
                                 accumulate->data());
    }
  }
}

} // namespace bilevel
