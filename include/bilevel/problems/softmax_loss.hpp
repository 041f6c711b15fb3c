#pragma once
// Multinomial logistic (softmax cross-entropy) loss on a rank's rows, the shared kernel of the
// data-driven instances (logreg_hyper; later hyper-cleaning and hyperparameter tuning). Weights
// W are (features x classes), the model's y stored feature-major (y[j * classes + c]). Every
// function returns this rank's partial sum (already divided by the split's global row count);
// the caller reduces over ranks. The optional `weights` (one per local row) scale each sample's
// term, as in hyper-cleaning's sigma(x_i) CE_i; nullptr means all ones. Each function reads
// the rows' features once (row_block_pass.hpp).
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/row_block_pass.hpp"

#include <Eigen/Dense>

#include <vector>

namespace bilevel {

/// Row-wise softmax probabilities of the rows' scores X W.
Eigen::MatrixXd softmax_probabilities(const LabeledRows& rows, const WeightMatrix& w);

/// (1/N) sum_i w_i CE(x_i' W, b_i) over local rows.
double softmax_loss(const LabeledRows& rows, const WeightMatrix& w,
                    const Eigen::VectorXd* weights = nullptr);
/// softmax(X W) of a set of rows, kept for the last W's it was computed at. By default for one
/// W, filled by Hessian-vector products: the products of a CG solve at a fixed y then multiply X
/// by V and X' by R only, one product with X fewer per call. keep_points(k) keeps k W's and lets
/// gradients fill it too: ITD's reverse sweep then finds the probabilities of every forward step
/// (Problem::expect_lower_trajectory). The kept values are the computed ones, so a result is the
/// same to the bit with or without the cache; a W is found only when it is equal to the bit.
class ProbabilityCache {
public:
  /// Keeps up to `points` W's for `rows` rows (at least one, and no more than kBudgetBytes
  /// hold), from now on filled by gradients too when that is more than one. The storage (points x
  /// rows x classes doubles, on huge pages) is allocated and written here, at set-up, not in the
  /// first timed products.
  void keep_points(int points, Eigen::Index rows);
  /// Memory per rank for kept points: past it the first steps of a long trajectory recompute.
  static constexpr double kBudgetBytes = 256.0 * 1024 * 1024;
  /// Whether gradients fill the cache (keep_points was given more than one point).
  bool filled_by_gradients() const { return keys_.size() > 1; }
  /// The kept probabilities of W (column-major, leading dimension `rows`), or nullptr.
  const double* find(const WeightMatrix& w, Eigen::Index rows) const;
  /// Storage for W's probabilities (the oldest slot), from now on W's.
  double* slot_for(const WeightMatrix& w, Eigen::Index rows);

private:
  /// Slot k's first entry (its C columns are contiguous in storage_).
  double* slot(std::size_t k);
  const double* slot(std::size_t k) const;

  Eigen::MatrixXd storage_; ///< rows x (classes x slots), slot k in columns k C .. k C + C - 1
  std::vector<WeightMatrix> keys_; ///< each slot's W (0 x 0: empty)
  std::size_t next_ = 0;           ///< the slot to fill next (round robin)
};

/// Adds (1/N) sum_i w_i d CE_i / dW to `grad`; fills `cache` with softmax(X W) when the cache
/// is filled by gradients.
void add_softmax_gradient(const LabeledRows& rows, const WeightMatrix& w, WeightMatrix& grad,
                          const Eigen::VectorXd* weights = nullptr,
                          ProbabilityCache* cache = nullptr);
/// Adds (1/N) sum_i w_i d^2 CE_i / dW^2 [V] to `out`; `cache` (optional) is used when it holds
/// this W and filled when not.
void add_softmax_hessian_product(const LabeledRows& rows, const WeightMatrix& w,
                                 const WeightMatrix& v, WeightMatrix& out,
                                 const Eigen::VectorXd* weights = nullptr,
                                 ProbabilityCache* cache = nullptr);
/// Per local row, unscaled: CE(x_i' W, b_i).
Eigen::VectorXd softmax_sample_losses(const LabeledRows& rows, const WeightMatrix& w);
/// Per local row, unscaled: <d CE_i / dW, V>, the samples' directional derivatives along V.
Eigen::VectorXd softmax_sample_directional(const LabeledRows& rows, const WeightMatrix& w,
                                           const WeightMatrix& v);
/// Per-sample derivatives, one column per row of `rows` (a minibatch's rows, batch_rows in
/// row_batch.hpp), unscaled: the finite-sum problems' per-sample oracles. A column is the
/// features x classes matrix x_i r_i' (the row's features times its residual on the scores) in
/// the model's feature-major layout, so a column is a y-vector: 7850 doubles (63 kB) for
/// Fashion-MNIST, 4 MB for a batch of 64.
/// Columns d CE_i / dW = x_i (p_i - e_{b_i})'.
Eigen::MatrixXd softmax_gradient_columns(const LabeledRows& rows, const WeightMatrix& w);
/// Columns d^2 CE_i / dW^2 [V] = x_i (p_i .* z_i - p_i (p_i' z_i))', with z_i = V' x_i.
Eigen::MatrixXd softmax_hessian_product_columns(const LabeledRows& rows, const WeightMatrix& w,
                                                const WeightMatrix& v);
/// Number of local rows whose argmax score equals the label.
long long correct_predictions(const LabeledRows& rows, const WeightMatrix& w);

} // namespace bilevel
