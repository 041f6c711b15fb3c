#include "bilevel/problems/softmax_loss.hpp"

#include "bilevel/core/huge_pages.hpp"
#include "bilevel/problems/row_block_pass.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

// Every function is one row_block_pass: the block's scores are turned into per-row results, or
// into the residual whose X' product the pass accumulates, while the block is in cache.

namespace bilevel {

namespace {
// The visitors work on whole blocks, column by column: a block's columns are contiguous, so
// Eigen vectorises the products (a row of a block is strided); the softmax is the kernels' own
// (softmax_in_place, row_block_pass.hpp).

/// p_i - e_{b_i} = d CE_i / d scores_i for the block's rows, in place of the probabilities.
void subtract_labels(BlockMatrix& probabilities, const LabeledRows& rows, Eigen::Index first) {
  for (Eigen::Index i = 0; i < probabilities.rows(); ++i)
    probabilities(i, rows.labels[static_cast<std::size_t>(first + i)]) -= 1.0;
}

/// d(softmax)[z] = p .* z - p (p'z) for each row, z the row's scores along V: the residual of a
/// Hessian-vector product before the sample's weight.
Eigen::MatrixXd hessian_residual(const auto& p, const BlockMatrix& directions) {
  const Eigen::MatrixXd pz = p.cwiseProduct(directions);
  const Eigen::VectorXd ptz = pz.rowwise().sum();
  return pz - ptz.asDiagonal() * p;
}

/// Columns x_i r_i' (features x classes, feature-major) for each row i of `rows`, r_i the
/// matching row of `residuals`.
Eigen::MatrixXd outer_product_columns(const LabeledRows& rows, const Eigen::MatrixXd& residuals) {
  const Eigen::Index features = rows.features.cols(), classes = residuals.cols();
  Eigen::MatrixXd columns(features * classes, rows.features.rows());
  for (Eigen::Index i = 0; i < columns.cols(); ++i)
    Eigen::Map<WeightMatrix>(columns.col(i).data(), features, classes).noalias() =
        rows.features.row(i).transpose() * residuals.row(i);
  return columns;
}

/// The block's rows' sample weights over N (1 / N without weights).
Eigen::VectorXd row_scales(const LabeledRows& rows, const Eigen::VectorXd* weights,
                           const RowBlock& block) {
  const double n = static_cast<double>(rows.global_rows);
  const Eigen::Index count = block.rows;
  return weights ? Eigen::VectorXd(weights->segment(block.first, count) / n)
                 : Eigen::VectorXd::Constant(count, 1.0 / n);
}
} // namespace

Eigen::MatrixXd softmax_probabilities(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::MatrixXd probabilities(rows.features.rows(), w.cols());
  row_block_pass(rows, &w, nullptr, nullptr, [&](RowBlock& block) {
    softmax_in_place(block.scores);
    probabilities.middleRows(block.first, block.scores.rows()) = block.scores;
  });
  return probabilities;
}

Eigen::VectorXd softmax_sample_losses(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::VectorXd losses(rows.features.rows());
  row_block_pass(rows, &w, nullptr, nullptr, [&](RowBlock& block) {
    const Eigen::VectorXd max = block.scores.rowwise().maxCoeff();
    const Eigen::VectorXd sums =
        (block.scores.colwise() - max).array().exp().matrix().rowwise().sum();
    for (Eigen::Index i = 0; i < block.scores.rows(); ++i)
      losses[block.first + i] =
          max[i] + std::log(sums[i]) -
          block.scores(i, rows.labels[static_cast<std::size_t>(block.first + i)]);
  });
  return losses;
}

double softmax_loss(const LabeledRows& rows, const WeightMatrix& w,
                    const Eigen::VectorXd* weights) {
  const Eigen::VectorXd losses = softmax_sample_losses(rows, w);
  const double total = weights ? weights->dot(losses) : losses.sum();
  return total / static_cast<double>(rows.global_rows);
}

void ProbabilityCache::keep_points(int points, Eigen::Index rows) {
  const double bytes_per_point =
      static_cast<double>(sizeof(double)) * FashionMnist::kClasses * static_cast<double>(rows);
  const auto affordable = static_cast<int>(kBudgetBytes / std::max(bytes_per_point, 1.0));
  const auto slots = static_cast<std::size_t>(std::max(std::min(points, affordable), 1));
  keys_.assign(slots, WeightMatrix());
  next_ = 0;
  storage_.resize(rows, FashionMnist::kClasses * static_cast<Eigen::Index>(slots));
  advise_huge_pages(storage_.data(), static_cast<std::size_t>(storage_.size()) * sizeof(double));
  // Touched here, at set-up: fresh pages cost a fault each on first write (on a VM a host fault
  // too, ~2 ms per MB), which would otherwise land in the first timed gradients.
  storage_.setZero();
}

double* ProbabilityCache::slot(std::size_t k) {
  return storage_.col(static_cast<Eigen::Index>(k) * FashionMnist::kClasses).data();
}
const double* ProbabilityCache::slot(std::size_t k) const {
  return storage_.col(static_cast<Eigen::Index>(k) * FashionMnist::kClasses).data();
}

const double* ProbabilityCache::find(const WeightMatrix& w, Eigen::Index rows) const {
  if (storage_.rows() != rows)
    return nullptr;
  for (std::size_t k = 0; k < keys_.size(); ++k)
    if (keys_[k].rows() == w.rows() && keys_[k].cols() == w.cols() && keys_[k] == w)
      return slot(k);
  return nullptr;
}

double* ProbabilityCache::slot_for(const WeightMatrix& w, Eigen::Index rows) {
  if (keys_.empty() || storage_.rows() != rows)
    keep_points(static_cast<int>(keys_.size()), rows);
  const std::size_t k = next_;
  next_ = (next_ + 1) % keys_.size();
  keys_[k] = w;
  return slot(k);
}

namespace {
/// The block's rows of kept probabilities (column-major with leading dimension `rows`),
/// writable through a double*, read-only through a const double*.
template <class Element> auto kept_rows(Element* kept, Eigen::Index rows, const RowBlock& block) {
  using Matrix =
      std::conditional_t<std::is_const_v<Element>, const Eigen::MatrixXd, Eigen::MatrixXd>;
  return Eigen::Map<Matrix, 0, Eigen::OuterStride<>>(
      kept + block.first, block.rows, FashionMnist::kClasses, Eigen::OuterStride<>(rows));
}
} // namespace

void add_softmax_gradient(const LabeledRows& rows, const WeightMatrix& w, WeightMatrix& grad,
                          const Eigen::VectorXd* weights, ProbabilityCache* cache) {
  const Eigen::Index n = rows.features.rows();
  double* fill =
      cache && cache->filled_by_gradients() && !cache->find(w, n) ? cache->slot_for(w, n) : nullptr;
  row_block_pass(rows, &w, nullptr, &grad, [&](RowBlock& block) {
    softmax_in_place(block.scores);
    if (fill)
      kept_rows(fill, n, block) = block.scores;
    subtract_labels(block.scores, rows, block.first);
    block.residual = row_scales(rows, weights, block).asDiagonal() * block.scores;
  });
}

void add_softmax_hessian_product(const LabeledRows& rows, const WeightMatrix& w,
                                 const WeightMatrix& v, WeightMatrix& out,
                                 const Eigen::VectorXd* weights, ProbabilityCache* cache) {
  const Eigen::Index n = rows.features.rows();
  const double* kept = cache ? cache->find(w, n) : nullptr;
  double* fill = cache && !kept ? cache->slot_for(w, n) : nullptr;
  row_block_pass(rows, kept ? nullptr : &w, &v, &out, [&](RowBlock& block) {
    const auto residual = [&](const auto& p) {
      block.residual =
          row_scales(rows, weights, block).asDiagonal() * hessian_residual(p, block.directions);
    };
    if (kept) {
      residual(kept_rows(kept, n, block));
      return;
    }
    softmax_in_place(block.scores);
    if (fill)
      kept_rows(fill, n, block) = block.scores;
    residual(block.scores);
  });
}

Eigen::VectorXd softmax_sample_directional(const LabeledRows& rows, const WeightMatrix& w,
                                           const WeightMatrix& v) {
  // <x_i (p_i - e_{b_i})', V> = <p_i - e_{b_i}, x_i' V>.
  Eigen::VectorXd directional(rows.features.rows());
  row_block_pass(rows, &w, &v, nullptr, [&](RowBlock& block) {
    softmax_in_place(block.scores);
    subtract_labels(block.scores, rows, block.first);
    directional.segment(block.first, block.scores.rows()) =
        block.scores.cwiseProduct(block.directions).rowwise().sum();
  });
  return directional;
}

Eigen::MatrixXd softmax_gradient_columns(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::MatrixXd residuals(rows.features.rows(), w.cols());
  row_block_pass(rows, &w, nullptr, nullptr, [&](RowBlock& block) {
    softmax_in_place(block.scores);
    subtract_labels(block.scores, rows, block.first);
    residuals.middleRows(block.first, block.rows) = block.scores;
  });
  return outer_product_columns(rows, residuals);
}

Eigen::MatrixXd softmax_hessian_product_columns(const LabeledRows& rows, const WeightMatrix& w,
                                                const WeightMatrix& v) {
  Eigen::MatrixXd residuals(rows.features.rows(), w.cols());
  row_block_pass(rows, &w, &v, nullptr, [&](RowBlock& block) {
    softmax_in_place(block.scores);
    residuals.middleRows(block.first, block.rows) =
        hessian_residual(block.scores, block.directions);
  });
  return outer_product_columns(rows, residuals);
}

long long correct_predictions(const LabeledRows& rows, const WeightMatrix& w) {
  long long correct = 0;
  row_block_pass(rows, &w, nullptr, nullptr, [&](RowBlock& block) {
    for (Eigen::Index i = 0; i < block.scores.rows(); ++i) {
      Eigen::Index best = 0;
      block.scores.row(i).maxCoeff(&best);
      correct += (best == rows.labels[static_cast<std::size_t>(block.first + i)]);
    }
  });
  return correct;
}

} // namespace bilevel
