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

namespace bilevel {

/// Row-wise softmax probabilities of the rows' scores X W.
Eigen::MatrixXd softmax_probabilities(const LabeledRows& rows, const WeightMatrix& w);

/// (1/N) sum_i w_i CE(x_i' W, b_i) over local rows.
double softmax_loss(const LabeledRows& rows, const WeightMatrix& w,
                    const Eigen::VectorXd* weights = nullptr);
/// Adds (1/N) sum_i w_i d CE_i / dW to `grad`.
void add_softmax_gradient(const LabeledRows& rows, const WeightMatrix& w, WeightMatrix& grad,
                          const Eigen::VectorXd* weights = nullptr);
/// softmax(X W) of a set of rows, kept for the W it was last computed at: Hessian-vector
/// products at one W (a CG solve at a fixed y) then multiply X by V and X' by R only, one
/// product with X fewer per call. The kept values are the computed ones, so a product is the
/// same to the bit with or without the cache.
struct ProbabilityCache {
  WeightMatrix w;                ///< the W of `probabilities` (0 x 0: nothing kept yet)
  Eigen::MatrixXd probabilities; ///< local rows x classes
};

/// Adds (1/N) sum_i w_i d^2 CE_i / dW^2 [V] to `out`; `cache` (optional) is used when it holds
/// this W and refilled when not.
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
