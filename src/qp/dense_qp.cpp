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
      (A.rows() > 0 && A.cols() != size) ||
      std::any_of(quadratic.begin(), quadratic.end(), [size](const QuadraticConstraint& c) {
        return c.P.rows() != size || c.P.cols() != size || c.r.size() != size;
      }))
    throw InputError("QP: Q is " + shape(Q) + ", q has " + std::to_string(size) + ", G is " +
                     shape(G) + " with h of " + std::to_string(h.size()) + ", A is " + shape(A) +
                     " with b of " + std::to_string(b.size()) +
                     "; accepted: Q n x n, G m x n with h of m, A p x n with b of p, every "
                     "quadratic constraint's P n x n and r of n");
}

Eigen::VectorXd DenseQp::slack(const Eigen::VectorXd& y) const {
  Eigen::VectorXd s(inequalities());
  if (G.rows() > 0)
    s.head(G.rows()) = h - G * y;
  for (std::size_t k = 0; k < quadratic.size(); ++k)
    s[G.rows() + static_cast<Eigen::Index>(k)] = quadratic[k].s - quadratic[k].value(y);
  return s;
}

Eigen::MatrixXd DenseQp::inequality_jacobian(const Eigen::VectorXd& y) const {
  Eigen::MatrixXd J(inequalities(), n());
  if (G.rows() > 0)
    J.topRows(G.rows()) = G;
  for (std::size_t k = 0; k < quadratic.size(); ++k)
    J.row(G.rows() + static_cast<Eigen::Index>(k)) =
        (quadratic[k].P * y + quadratic[k].r).transpose();
  return J;
}

Eigen::MatrixXd DenseQp::lagrangian_hessian(const Eigen::VectorXd& lambda) const {
  Eigen::MatrixXd H = Q;
  for (std::size_t k = 0; k < quadratic.size(); ++k)
    H += lambda[G.rows() + static_cast<Eigen::Index>(k)] * quadratic[k].P;
  return H;
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
  // J(y)'lambda without forming J: its linear rows are G (a copy of G cost the interior point's
  // polishing step more than its products), then one row per quadratic constraint.
  if (qp.G.rows() > 0)
    grad.noalias() += qp.G.transpose() * s.lambda.head(qp.G.rows());
  for (std::size_t k = 0; k < qp.quadratic.size(); ++k)
    grad += s.lambda[qp.G.rows() + static_cast<Eigen::Index>(k)] *
            (qp.quadratic[k].P * s.y + qp.quadratic[k].r);
  if (qp.A.rows() > 0)
    grad += qp.A.transpose() * s.nu;
  r.stationarity = grad.lpNorm<Eigen::Infinity>();
  if (qp.inequalities() > 0) {
    const Eigen::VectorXd slack = qp.slack(s.y);
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
  const Eigen::VectorXd slack = qp.slack(y);
  for (Eigen::Index i = 0; i < slack.size(); ++i)
    if (slack[i] <= tau)
      rows.push_back(i);
  return rows;
}

std::vector<Eigen::Index> active_set(const DenseQp& qp, const QpSolution& solution, double tau) {
  std::vector<Eigen::Index> rows;
  const Eigen::VectorXd slack = qp.slack(solution.y);
  for (Eigen::Index i = 0; i < slack.size(); ++i)
    if (slack[i] <= tau || (solution.lambda[i] > tau && solution.lambda[i] > slack[i]))
      rows.push_back(i);
  return rows;
}

} // namespace bilevel
