#include "bilevel/problems/softmax_loss.hpp"

#include <cmath>

namespace bilevel {

namespace {
/// Subtracts the row max before exponentiating, so large scores never overflow.
Eigen::MatrixXd stable_softmax(Eigen::MatrixXd scores) {
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    const double m = scores.row(i).maxCoeff();
    scores.row(i) = (scores.row(i).array() - m).exp();
    scores.row(i) /= scores.row(i).sum();
  }
  return scores;
}

/// d CE_i / d scores_i = p_i - e_{b_i}, one row per local sample.
Eigen::MatrixXd softmax_residual(const LabeledRows& rows, const WeightMatrix& w) {
  Eigen::MatrixXd residual = softmax_probabilities(rows, w);
  for (Eigen::Index i = 0; i < residual.rows(); ++i)
    residual(i, rows.labels[static_cast<std::size_t>(i)]) -= 1.0;
  return residual;
}

void scale_rows(Eigen::MatrixXd& m, const Eigen::VectorXd* weights) {
  if (weights)
    m = weights->asDiagonal() * m;
}
} // namespace

Eigen::MatrixXd softmax_probabilities(const LabeledRows& rows, const WeightMatrix& w) {
  return stable_softmax(rows.features * w);
}

Eigen::VectorXd softmax_sample_losses(const LabeledRows& rows, const WeightMatrix& w) {
  const Eigen::MatrixXd scores = rows.features * w;
  Eigen::VectorXd losses(scores.rows());
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    const double m = scores.row(i).maxCoeff();
    const double log_sum = m + std::log((scores.row(i).array() - m).exp().sum());
    losses[i] = log_sum - scores(i, rows.labels[static_cast<std::size_t>(i)]);
  }
  return losses;
}

double softmax_loss(const LabeledRows& rows, const WeightMatrix& w,
                    const Eigen::VectorXd* weights) {
  const Eigen::VectorXd losses = softmax_sample_losses(rows, w);
  const double total = weights ? weights->dot(losses) : losses.sum();
  return total / static_cast<double>(rows.global_rows);
}

void add_softmax_gradient(const LabeledRows& rows, const WeightMatrix& w, WeightMatrix& grad,
                          const Eigen::VectorXd* weights) {
  Eigen::MatrixXd residual = softmax_residual(rows, w);
  scale_rows(residual, weights);
  grad.noalias() += rows.features.transpose() * residual / static_cast<double>(rows.global_rows);
}

void add_softmax_hessian_product(const LabeledRows& rows, const WeightMatrix& w,
                                 const WeightMatrix& v, WeightMatrix& out,
                                 const Eigen::VectorXd* weights) {
  // Per row: d(softmax)[z] = p .* z - p (p'z), with z = x_i' V.
  const Eigen::MatrixXd p = softmax_probabilities(rows, w);
  const Eigen::MatrixXd z = rows.features * v;
  Eigen::MatrixXd r = p.cwiseProduct(z);
  const Eigen::VectorXd pz = r.rowwise().sum();
  r -= p.cwiseProduct(pz.replicate(1, p.cols()));
  scale_rows(r, weights);
  out.noalias() += rows.features.transpose() * r / static_cast<double>(rows.global_rows);
}

Eigen::VectorXd softmax_sample_directional(const LabeledRows& rows, const WeightMatrix& w,
                                           const WeightMatrix& v) {
  // <x_i (p_i - e_{b_i})', V> = <p_i - e_{b_i}, x_i' V>.
  return softmax_residual(rows, w).cwiseProduct(rows.features * v).rowwise().sum();
}

long long correct_predictions(const LabeledRows& rows, const WeightMatrix& w) {
  const Eigen::MatrixXd scores = rows.features * w;
  long long correct = 0;
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    Eigen::Index best = 0;
    scores.row(i).maxCoeff(&best);
    correct += (best == rows.labels[static_cast<std::size_t>(i)]);
  }
  return correct;
}

} // namespace bilevel
