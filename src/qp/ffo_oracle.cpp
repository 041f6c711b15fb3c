#include "bilevel/qp/ffo_oracle.hpp"

#include "bilevel/qp/affine_gradient_descent.hpp"

namespace bilevel {

QpAdjoint FfoOracle::adjoint(const DenseQp& qp, const QpSolution& solution,
                             const Eigen::VectorXd& dl_dy) const {
  const auto active = active_set(qp, solution, config_.active_tolerance);
  const Eigen::Index n = qp.n(), k = static_cast<Eigen::Index>(active.size()), p = qp.A.rows();
  const Eigen::Index m = qp.linear_rows();
  // The active rows linearised at y*: rows of G, and the gradients of active quadratic ones.
  const Eigen::MatrixXd J = qp.inequality_jacobian(solution.y);
  Eigen::MatrixXd C(k + p, n);
  Eigen::VectorXd lambda_active(k);
  for (Eigen::Index r = 0; r < k; ++r) {
    C.row(r) = J.row(active[static_cast<std::size_t>(r)]);
    lambda_active[r] = solution.lambda[active[static_cast<std::size_t>(r)]];
  }
  C.bottomRows(p) = qp.A;
  // Gradient of the ghost objective g~ + delta <dl/dy, y>, g~ = g + sum_I lambda_i c_i: a linear
  // row adds lambda_i G_i, a quadratic one lambda_k (P_k y + r_k) = lambda_k (P_k (y - y*) +
  // J_k), gathered once into Q~ and the shift.
  Eigen::MatrixXd ghost_q = qp.Q;
  Eigen::VectorXd shift = qp.q + C.topRows(k).transpose() * lambda_active;
  for (Eigen::Index r = 0; r < k; ++r)
    if (const Eigen::Index row = active[static_cast<std::size_t>(r)]; row >= m) {
      const Eigen::MatrixXd& P = qp.quadratic[static_cast<std::size_t>(row - m)].P;
      ghost_q += lambda_active[r] * P;
      shift -= lambda_active[r] * (P * solution.y);
    }
  const double delta = config_.delta;
  auto ghost_gradient = [&](double d, const Eigen::VectorXd& y) -> Eigen::VectorXd {
    return ghost_q * y + shift + d * dl_dy;
  };
  const AffineGradientDescent solver(C, {config_.ffo_tolerance, config_.ffo_max_iterations});
  // First step 1/||Q~||_inf (Gershgorin: at most 1/L), after which the BB steps take over.
  const double first_step = 1.0 / ghost_q.cwiseAbs().rowwise().sum().maxCoeff();
  // The ghost problem at delta = 0, polished from y* by the same solver, so that the quotient's
  // error is the inner tolerance over delta rather than the QP solver's tolerance over delta.
  const auto base = solver.minimise(
      [&](const Eigen::VectorXd& y) { return ghost_gradient(0.0, y); }, solution.y, first_step);
  const auto perturbed = solver.minimise(
      [&](const Eigen::VectorXd& y) { return ghost_gradient(delta, y); }, base.y, first_step);
  const Eigen::VectorXd multipliers_delta = solver.multipliers(ghost_gradient(delta, perturbed.y));
  const Eigen::VectorXd multipliers_0 = solver.multipliers(ghost_gradient(0.0, base.y));
  const Eigen::VectorXd d_multipliers = (multipliers_delta - multipliers_0) / delta;
  QpAdjoint a;
  a.d_y = (perturbed.y - base.y) / delta;
  a.w = Eigen::VectorXd::Zero(qp.inequalities());
  for (Eigen::Index r = 0; r < k; ++r)
    a.w[active[static_cast<std::size_t>(r)]] = d_multipliers[r];
  a.d_nu = d_multipliers.tail(p);
  a.y_outer = perturbed.y;
  a.inner_converged = base.converged && perturbed.converged;
  a.inner_iterations = base.iterations + perturbed.iterations;
  a.inner_solves = 2;
  return a;
}

} // namespace bilevel
