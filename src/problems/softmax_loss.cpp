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
} // namespace

Eigen::MatrixXd softmax_probabilities(const LabeledRows& rows, const WeightMatrix& w) {
  return stable_softmax(rows.features * w);
}

double softmax_loss(const LabeledRows& rows, const WeightMatrix& w) {
  const Eigen::MatrixXd scores = rows.features * w;
  double total = 0.0;
  for (Eigen::Index i = 0; i < scores.rows(); ++i) {
    const double m = scores.row(i).maxCoeff();
    const double log_sum = m + std::log((scores.row(i).array() - m).exp().sum());
    total += log_sum - scores(i, rows.labels[static_cast<std::size_t>(i)]);
  }
  return total / static_cast<double>(rows.global_rows);
}

void add_softmax_gradient(const LabeledRows& rows, const WeightMatrix& w, WeightMatrix& grad) {
  Eigen::MatrixXd residual = softmax_probabilities(rows, w);
  for (Eigen::Index i = 0; i < residual.rows(); ++i)
    residual(i, rows.labels[static_cast<std::size_t>(i)]) -= 1.0;
  grad.noalias() += rows.features.transpose() * residual / static_cast<double>(rows.global_rows);
}

void add_softmax_hessian_product(const LabeledRows& rows, const WeightMatrix& w,
                                 const WeightMatrix& v, WeightMatrix& out) {
  // Per row: d(softmax)[z] = p .* z - p (p'z), with z = x_i' V.
  const Eigen::MatrixXd p = softmax_probabilities(rows, w);
  const Eigen::MatrixXd z = rows.features * v;
  Eigen::MatrixXd r = p.cwiseProduct(z);
  const Eigen::VectorXd pz = r.rowwise().sum();
  r -= p.cwiseProduct(pz.replicate(1, p.cols()));
  out.noalias() += rows.features.transpose() * r / static_cast<double>(rows.global_rows);
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
