#include "bilevel/qp/dense_qp.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>

namespace bilevel {

void DenseQp::validate() const {
  const Eigen::Index size = n();
  const auto shape = [](const Eigen::MatrixXd& M) {
    return std::to_string(M.rows()) + "x" + std::to_string(M.cols());
  };
  if (Q.rows() != size || Q.cols() != size || G.rows() != h.size() ||
      (G.rows() > 0 && G.cols() != size) || A.rows() != b.size() ||
      (A.rows() > 0 && A.cols() != size))
    throw InputError("QP: Q is " + shape(Q) + ", q has " + std::to_string(size) + ", G is " +
                     shape(G) + " with h of " + std::to_string(h.size()) + ", A is " + shape(A) +
                     " with b of " + std::to_string(b.size()) +
                     "; accepted: Q n x n, G m x n with h of m, A p x n with b of p");
}

std::string to_string(QpStatus status) {
  switch (status) {
  case QpStatus::kSolved:
    return "solved";
  case QpStatus::kInfeasible:
    return "infeasible";
  case QpStatus::kMaxIterations:
    return "max_iterations";
  case QpStatus::kNumericalError:
    return "numerical_error";
  }
  return "unknown";
}

double KktResiduals::max() const {
  return std::max({stationarity, primal, dual, complementarity});
}

KktResiduals kkt_residuals(const DenseQp& qp, const QpSolution& s) {
  KktResiduals r{};
  Eigen::VectorXd grad = qp.Q * s.y + qp.q;
  if (qp.G.rows() > 0)
    grad += qp.G.transpose() * s.lambda;
  if (qp.A.rows() > 0)
    grad += qp.A.transpose() * s.nu;
  r.stationarity = grad.lpNorm<Eigen::Infinity>();
  if (qp.G.rows() > 0) {
    const Eigen::VectorXd slack = qp.h - qp.G * s.y;
    r.primal = (-slack).cwiseMax(0.0).maxCoeff();
    r.dual = (-s.lambda).cwiseMax(0.0).maxCoeff();
    r.complementarity = s.lambda.cwiseProduct(slack).lpNorm<Eigen::Infinity>();
  }
  if (qp.A.rows() > 0)
    r.primal = std::max(r.primal, (qp.A * s.y - qp.b).lpNorm<Eigen::Infinity>());
  return r;
}

std::vector<Eigen::Index> active_by_slack(const DenseQp& qp, const Eigen::VectorXd& y, double tau) {
  std::vector<Eigen::Index> rows;
  if (qp.G.rows() == 0)
    return rows;
  const Eigen::VectorXd slack = qp.h - qp.G * y;
  for (Eigen::Index i = 0; i < slack.size(); ++i)
    if (slack[i] <= tau)
      rows.push_back(i);
  return rows;
}

std::vector<Eigen::Index> active_set(const DenseQp& qp, const QpSolution& solution, double tau) {
  std::vector<Eigen::Index> rows;
  if (qp.G.rows() == 0)
    return rows;
  const Eigen::VectorXd slack = qp.h - qp.G * solution.y;
  for (Eigen::Index i = 0; i < slack.size(); ++i)
    if (slack[i] <= tau || (solution.lambda[i] > tau && solution.lambda[i] > slack[i]))
      rows.push_back(i);
  return rows;
}

} // namespace bilevel
