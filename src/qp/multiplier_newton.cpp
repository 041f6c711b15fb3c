#include "bilevel/qp/multiplier_newton.hpp"

#include <utility>

namespace bilevel {

bool MultiplierNewton::cheaper(Eigen::Index n, Eigen::Index m, Eigen::Index p, bool q_diagonal) {
  const double N = static_cast<double>(n), k = static_cast<double>(m + p),
               P = static_cast<double>(p), newton_matrices = 15;
  // To y: Q + G'WG by a rank-m update and its Cholesky factor; with equalities, W = L^{-1}A'
  // (n^2 p), S = W'W (n p^2) and S's factor (p^3 / 3).
  const double to_y =
      N * N * static_cast<double>(m) + N * N * N / 3 + N * N * P + N * P * P + P * P * P / 3;
  // To the multipliers: once Q's factor and V = L^{-1}C' (unless Q is diagonal) and V'V; then
  // one Cholesky factor of M per Newton matrix.
  const double once = N * k * k + (q_diagonal ? 0.0 : N * N * N / 3 + N * N * k);
  return once + newton_matrices * k * k * k / 3 < newton_matrices * to_y;
}

std::optional<MultiplierNewton> MultiplierNewton::of(const DenseQp& qp,
                                                     const Eigen::VectorXd* q_diagonal) {
  HessianFactor q = q_diagonal ? HessianFactor(*q_diagonal) : HessianFactor(qp.Q);
  if (!q.ok())
    return std::nullopt;
  return MultiplierNewton(qp, std::move(q));
}

MultiplierNewton::MultiplierNewton(const DenseQp& qp, HessianFactor q)
    : qp_(&qp), q_(std::move(q)) {
  const Eigen::Index m = qp.G.rows(), p = qp.A.rows();
  // C Q^{-1} C' = V'V with V = L^{-1}C': a scaling for a diagonal Q, else one triangular solve
  // with m + p right-hand sides; then a symmetric rank-n update (dsyrk).
  Eigen::MatrixXd V(qp.n(), m + p);
  V.leftCols(m) = qp.G.transpose();
  V.rightCols(p) = qp.A.transpose();
  q_.solve_lower(V);
  gram_ = Eigen::MatrixXd::Zero(m + p, m + p);
  gram_.selfadjointView<Eigen::Lower>().rankUpdate(V.transpose());
}

Eigen::MatrixXd MultiplierNewton::matrix(const Eigen::VectorXd& d, Eigen::MatrixXd storage) const {
  storage.resize(gram_.rows(), gram_.cols());
  storage.triangularView<Eigen::Lower>() = gram_;
  storage.diagonal().head(d.size()) += d;
  return storage;
}

void MultiplierNewton::apply_q_inverse(Eigen::VectorXd& v) const {
  q_.solve_lower(v);
  q_.solve_upper(v);
}

Eigen::VectorXd MultiplierNewton::reduce(const Eigen::VectorXd& f) const {
  const Eigen::Index m = qp_->G.rows(), p = qp_->A.rows();
  Eigen::VectorXd q_inverse_f = f, out(m + p);
  apply_q_inverse(q_inverse_f);
  out.head(m).noalias() = qp_->G * q_inverse_f;
  if (p > 0)
    out.tail(p).noalias() = qp_->A * q_inverse_f;
  return out;
}

void MultiplierNewton::solve_multipliers(const HessianFactor& M, const Eigen::VectorXd& reduced_f,
                                         const Eigen::VectorXd& g, const Eigen::VectorXd& e,
                                         Eigen::VectorXd& dz, Eigen::VectorXd& dnu) const {
  const Eigen::Index m = qp_->G.rows(), p = qp_->A.rows();
  Eigen::VectorXd w = reduced_f;
  w.head(m) -= g;
  if (p > 0)
    w.tail(p) -= e;
  M.solve_lower(w);
  M.solve_upper(w);
  dz = w.head(m);
  dnu = w.tail(p);
}

void MultiplierNewton::solve_y(const Eigen::VectorXd& f, const Eigen::VectorXd& dz,
                               const Eigen::VectorXd& dnu, Eigen::VectorXd& dy,
                               Eigen::VectorXd& c_multipliers) const {
  c_multipliers.noalias() = qp_->G.transpose() * dz;
  if (qp_->A.rows() > 0)
    c_multipliers.noalias() += qp_->A.transpose() * dnu;
  dy = f - c_multipliers;
  apply_q_inverse(dy);
}

} // namespace bilevel
