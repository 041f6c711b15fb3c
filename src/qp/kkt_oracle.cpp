#include "bilevel/qp/kkt_oracle.hpp"

namespace bilevel {

QpAdjoint KktOracle::adjoint(const DenseQp& qp, const QpSolution& solution,
                             const Eigen::VectorXd& dl_dy) const {
  const Eigen::Index n = qp.n(), m = qp.inequalities(), p = qp.A.rows();
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(n + m + p, n + m + p);
  K.topLeftCorner(n, n) = qp.lagrangian_hessian(solution.lambda);
  if (m > 0) {
    const Eigen::MatrixXd J = qp.inequality_jacobian(solution.y);
    K.block(0, n, n, m) = J.transpose() * solution.lambda.asDiagonal();
    K.block(n, 0, m, n) = J;
    K.block(n, n, m, m).diagonal() = -qp.slack(solution.y);
  }
  if (p > 0) {
    K.block(0, n + m, n, p) = qp.A.transpose();
    K.block(n + m, 0, p, n) = qp.A;
  }
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n + m + p);
  rhs.head(n) = -dl_dy;
  const Eigen::VectorXd sol = K.partialPivLu().solve(rhs);
  QpAdjoint a;
  a.d_y = sol.head(n);
  a.w = solution.lambda.cwiseProduct(sol.segment(n, m));
  a.d_nu = sol.tail(p);
  a.y_outer = solution.y;
  return a;
}

} // namespace bilevel
