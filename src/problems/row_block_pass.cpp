#include "bilevel/problems/row_block_pass.hpp"

#include "bilevel/problems/row_block_kernels.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace bilevel {

namespace {

namespace kernels = row_block_kernels;
using kernels::kTile;
constexpr int kClasses = FashionMnist::kClasses;
static_assert(kernels::kClasses == kClasses);

// The kernels load whole 64-byte vectors at row offsets that are multiples of kLanes, from the
// pass's buffers (strides of whole 64-byte lines) and from X as doubles (8 bytes per lane as
// bytes). With Eigen's arrays on line boundaries (CMakeLists.txt) no buffer load spans two
// lines, nor does a load from X when the rank's row count is a multiple of kLanes (then every
// column starts on a line). A residual
// buffer 16 bytes off a line made the pass 1.5x slower (docs/performance.md).
static_assert(EIGEN_MAX_ALIGN_BYTES >= kernels::kLanes * sizeof(double),
              "Eigen's heap arrays must start on a 64-byte boundary");

/// Rows per block: the block's X_b must stay in the 1 MiB L2 between its two products, so the
/// second (X_b' R_b) reads cache, not memory. 128 x 785 doubles = 0.8 MB (64 and 256 rows were
/// no faster); 512 x 785 bytes = 0.4 MB (measured: 1.1x faster than 128 rows, as fast as 256,
/// since the transpose product's reductions are paid once per block).
template <class Element> constexpr Eigen::Index kBlock = sizeof(Element) == 1 ? 512 : 128;
static_assert(kBlock<double> % kTile == 0 && kBlock<std::uint8_t> % kTile == 0,
              "strides of whole cache lines");

bool has_avx512() {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512;
}

template <class Element>
void scores(const Element* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index features,
            const double* w, double* s, Eigen::Index lds) {
  (has_avx512() ? kernels::avx512::scores<Element>
                : kernels::baseline::scores<Element>)(x, ldx, rows, features, w, s, lds);
}

template <class Element>
void transpose_product(const Element* x, Eigen::Index ldx, Eigen::Index rows, Eigen::Index features,
                       const double* r, Eigen::Index ldr, double* g) {
  (has_avx512() ? kernels::avx512::transpose_product<Element>
                : kernels::baseline::transpose_product<Element>)(x, ldx, rows, features, r, ldr, g);
}

void softmax(double* s, Eigen::Index lds, Eigen::Index rows) {
  (has_avx512() ? kernels::avx512::softmax : kernels::baseline::softmax)(s, lds, rows);
}

void check_shape(const char* what, Eigen::Index rows, Eigen::Index cols, Eigen::Index features) {
  if (rows != features || cols != kClasses)
    throw std::logic_error(std::string("row_block_pass: ") + what + " is " + std::to_string(rows) +
                           " x " + std::to_string(cols) + ", expected " + std::to_string(features) +
                           " x " + std::to_string(kClasses));
}

/// The pass over X = `x` / `levels`: the kernels multiply the stored values, so W and V are
/// divided by `levels` before the products and each R_b before X_b' R_b (levels = 1 for doubles).
template <class Element>
void pass(const Eigen::Matrix<Element, Eigen::Dynamic, Eigen::Dynamic>& x, double levels,
          const WeightMatrix* w, const WeightMatrix* v, WeightMatrix* accumulate,
          const std::function<void(RowBlock&)>& visit) {
  const Eigen::Index n = x.rows(), f = x.cols();
  constexpr Eigen::Index block_rows = kBlock<Element>;
  const bool scaled = levels != 1.0;
  // m / levels in `storage` when the values are scaled, else m itself.
  const auto per_level = [&](const WeightMatrix* m, WeightMatrix& storage) {
    if (!m || !scaled)
      return m;
    storage = *m / levels;
    return static_cast<const WeightMatrix*>(&storage);
  };
  WeightMatrix w_storage, v_storage;
  const WeightMatrix* w_used = per_level(w, w_storage);
  const WeightMatrix* v_used = per_level(v, v_storage);

  // Buffers with one spare tile: a block's last rows (fewer than kTile) are computed from a
  // zero-padded copy, whose zero rows add nothing to X' R.
  constexpr Eigen::Index stride = block_rows + kTile;
  Eigen::MatrixXd scores_buffer(w ? stride : 0, kClasses), directions(v ? stride : 0, kClasses),
      residual(accumulate ? stride : 0, kClasses);
  Eigen::Matrix<Element, Eigen::Dynamic, Eigen::Dynamic> tail =
      Eigen::Matrix<Element, Eigen::Dynamic, Eigen::Dynamic>::Zero(kTile, f);

  for (Eigen::Index first = 0; first < n; first += block_rows) {
    const Eigen::Index rows = std::min(block_rows, n - first);
    const Eigen::Index whole = rows / kTile * kTile;
    const Element* block = x.data() + first;
    if (whole < rows)
      tail.topRows(rows - whole) = x.middleRows(first + whole, rows - whole);
    // The whole tiles read X in place, the remainder reads the padded copy.
    const auto scores_of = [&](const WeightMatrix& m, Eigen::MatrixXd& out) {
      scores(block, n, whole, f, m.data(), out.data(), stride);
      if (whole < rows)
        scores(tail.data(), kTile, kTile, f, m.data(), out.data() + whole, stride);
    };
    if (w)
      scores_of(*w_used, scores_buffer);
    if (v)
      scores_of(*v_used, directions);
    if (accumulate)
      residual.setZero();

    RowBlock view{
        first, rows,
        BlockMatrix(scores_buffer.data(), w ? rows : 0, kClasses, Eigen::OuterStride<>(stride)),
        BlockMatrix(directions.data(), v ? rows : 0, kClasses, Eigen::OuterStride<>(stride)),
        BlockMatrix(residual.data(), accumulate ? rows : 0, kClasses,
                    Eigen::OuterStride<>(stride))};
    visit(view);

    if (accumulate) {
      if (scaled)
        residual.topRows(rows) /= levels;
      transpose_product(block, n, whole, f, residual.data(), stride, accumulate->data());
      if (whole < rows)
        transpose_product(tail.data(), kTile, kTile, f, residual.data() + whole, stride,
                          accumulate->data());
    }
  }
}

} // namespace

void softmax_in_place(BlockMatrix& scores) {
  if (scores.cols() != kClasses)
    throw std::logic_error("softmax_in_place: " + std::to_string(scores.cols()) +
                           " classes, the kernel has " + std::to_string(kClasses));
  softmax(scores.data(), scores.outerStride(), scores.rows());
}

void row_block_pass(const LabeledRows& rows, const WeightMatrix* w, const WeightMatrix* v,
                    WeightMatrix* accumulate, const std::function<void(RowBlock&)>& visit) {
  const Eigen::Index f = rows.features.cols();
  if (w)
    check_shape("W", w->rows(), w->cols(), f);
  if (v)
    check_shape("V", v->rows(), v->cols(), f);
  if (accumulate)
    check_shape("the output", accumulate->rows(), accumulate->cols(), f);
  if (rows.bytes.size() == 0) {
    pass(rows.features, 1.0, w, v, accumulate, visit);
    return;
  }
  if (rows.bytes.rows() != rows.features.rows() || rows.bytes.cols() != f)
    throw std::logic_error("row_block_pass: the byte features are " +
                           std::to_string(rows.bytes.rows()) + " x " +
                           std::to_string(rows.bytes.cols()) + ", the features " +
                           std::to_string(rows.features.rows()) + " x " + std::to_string(f) +
                           " (whoever changed the features did not clear the bytes)");
  pass(rows.bytes, LabeledRows::kByteLevels, w, v, accumulate, visit);
}

} // namespace bilevel
