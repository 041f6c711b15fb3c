#pragma once
// kkt on a BoxQp (see box_qp_oracle.hpp): implicit differentiation of the full KKT system
//   H y - q - lambda_l + lambda_u = 0,  lambda_l (y - lower) = 0,  lambda_u (upper - y) = 0
// in (y, lambda_l, lambda_u), with every bound row and the multipliers read off the gradient
// (bound_multipliers). The adjoint a = (a_y, a_l, a_u) solves J' a = (dl/dy, 0, 0) with
//   J' = [H, D(lambda_l), -D(lambda_u); -I, D(s_l), 0; I, 0, D(s_u)],  s_l = y - lower,
//   s_u = upper - y,
// and w = a_y. J' is not symmetric; GMRES solves it on a MatShell over interleaved 3n Vecs
// (OperatorSolver), right-preconditioned by the exact inverse of J''s 3x3 diagonal blocks (one
// per coordinate; invertible under strict complementarity, determinant
// H_ii s_l s_u + lambda_l s_u + lambda_u s_l), which keeps the true residual as the stopping test.
// A singular block (a degenerate row) is left unpreconditioned; then GMRES may not converge,
// which the outcome reports.
#include "bilevel/core/operator_solver.hpp"
#include "bilevel/qp/box_qp_oracle.hpp"

#include <vector>

namespace bilevel {

class BoxKktOracle final : public BoxQpOracle {
public:
  BoxKktOracle(Vec y_model, double rtol, const std::string& prefix);
  Outcome adjoint(const BoxQp& qp, Vec y, Vec gradient, Vec dl_dy, Vec w) override;
  Vec kept_warm_start() const override { return z_; }

private:
  /// out = M^{-1} in, M the block diagonal of J' (blocks_ holds its inverses).
  void precondition(Vec in, Vec out) const;
  /// out = J' in.
  void apply_transposed_jacobian(Mat H, Vec in, Vec out);

  OwnedVec z_, rhs_, a_, ay_, hay_, lambda_l_, lambda_u_, s_l_, s_u_;
  std::vector<double> blocks_; ///< 9 entries per local coordinate, row-major inverse
  std::unique_ptr<OperatorSolver> solver_;
};

} // namespace bilevel
