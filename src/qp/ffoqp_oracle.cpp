#include "bilevel/qp/ffoqp_oracle.hpp"

#include "bilevel/core/error.hpp"

namespace bilevel {

QpAdjoint FfoQpOracle::adjoint(const DenseQp& qp, const QpSolution& solution,
                               const Eigen::VectorXd& dl_dy) const {
  const auto active = active_set(qp, solution, active_tolerance_);
  const Eigen::Index n = qp.n(), k = static_cast<Eigen::Index>(active.size()), p = qp.A.rows();
  const Eigen::MatrixXd J = qp.inequality_jacobian(solution.y);
  Eigen::MatrixXd C(k + p, n);
  for (Eigen::Index r = 0; r < k; ++r)
    C.row(r) = J.row(active[static_cast<std::size_t>(r)]);
  C.bottomRows(p) = qp.A;
  const Eigen::LLT<Eigen::MatrixXd> chol(qp.lagrangian_hessian(solution.lambda));
  if (chol.info() != Eigen::Success)
    throw RuntimeFailure("ffoqp: Q is not positive definite");
  Eigen::VectorXd rhs = dl_dy; // d_y = -Q^{-1}(dl/dy + C'omega)
  QpAdjoint a;
  a.w = Eigen::VectorXd::Zero(qp.inequalities());
  a.d_nu.resize(p);
  if (k + p > 0) {
    const Eigen::MatrixXd q_inv_ct = chol.solve(C.transpose());
    const Eigen::VectorXd omega =
        -(C * q_inv_ct).ldlt().solve(C * chol.solve(dl_dy)); // S omega = -C Q^{-1} dl/dy
    rhs.noalias() += C.transpose() * omega;
    for (Eigen::Index r = 0; r < k; ++r)
      a.w[active[static_cast<std::size_t>(r)]] = omega[r];
    a.d_nu = omega.tail(p);
  }
  a.d_y = -chol.solve(rhs);
  a.y_outer = solution.y;
  return a;
}

} // namespace bilevel
