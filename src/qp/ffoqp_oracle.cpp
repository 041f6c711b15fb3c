#include "bilevel/qp/ffoqp_oracle.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/qp/active_set_factor.hpp"

#include <memory>
#include <optional>
#include <utility>

namespace bilevel {

namespace {

/// The active-set factor for `rows`: with H the Hessian of the Lagrangian and J the Jacobian of
/// the inequalities at y* (Q and G themselves, not copies, when there are no quadratic
/// constraints; diagonal and with the bounds eliminated when the QP has BoundStructure).
std::shared_ptr<const ActiveSetFactor> factor_rows(const DenseQp& qp, const QpSolution& solution,
                                                   std::vector<Eigen::Index> rows) {
  if (qp.quadratic.empty()) {
    const std::optional<BoundStructure> bounds = BoundStructure::of(qp);
    return std::make_shared<const ActiveSetFactor>(
        ActiveSetFactor::of_qp(qp, std::move(rows), bounds ? &*bounds : nullptr));
  }
  return std::make_shared<const ActiveSetFactor>(qp.lagrangian_hessian(solution.lambda),
                                                 qp.inequality_jacobian(solution.y), qp.A,
                                                 std::move(rows));
}

} // namespace

QpAdjoint FfoQpOracle::adjoint(const DenseQp& qp, const QpSolution& solution,
                               const Eigen::VectorXd& dl_dy) const {
  std::vector<Eigen::Index> active = active_set(qp, solution, active_tolerance_);
  // The forward's polishing factored this matrix if it took the same rows as active (it takes
  // lambda > slack; they differ only for another tolerance or a solution it did not replace).
  std::shared_ptr<const ActiveSetFactor> factor = solution.active_factor;
  if (!factor || factor->rows() != active)
    factor = factor_rows(qp, solution, std::move(active));
  if (!factor->ok())
    throw RuntimeFailure("ffoqp: Q is not positive definite");
  const auto& rows = factor->rows();
  const Eigen::Index k = static_cast<Eigen::Index>(rows.size()), p = qp.A.rows();
  QpAdjoint a;
  Eigen::VectorXd omega; // (w_I, d_nu)
  factor->solve(-dl_dy, Eigen::VectorXd::Zero(k + p), a.d_y, omega);
  a.w = Eigen::VectorXd::Zero(qp.inequalities());
  for (Eigen::Index r = 0; r < k; ++r)
    a.w[rows[static_cast<std::size_t>(r)]] = omega[r];
  a.d_nu = omega.tail(p);
  a.y_outer = solution.y;
  return a;
}

} // namespace bilevel
