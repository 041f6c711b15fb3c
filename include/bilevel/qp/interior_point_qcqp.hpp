#pragma once
// Primal-dual interior-point method for small dense convex layers with quadratic constraints
// (DenseQp with `quadratic` rows: FFOLayer's general convex layer, solved here with the exact
// Hessian of the Lagrangian since the forward pass is not what the paper makes first-order).
// With slacks s = -c(y) >= 0 for every inequality c_i(y) <= 0 it takes Newton steps on
//   Q y + q + J(y)'z + A'nu = 0,  c(y) + s = 0,  A y = b,  s .* z = sigma mu,
// with J the Jacobian of c and Q replaced by the Hessian of the Lagrangian, reduced like the QP
// method to (H + J'WJ) dy + A'dnu = r, A dy = r', W = diag(z ./ s). Unlike the QP, c is not
// affine, so a full step does not cut the primal residual by the step length: each step
// backtracks until the KKT residual (with the centring target) has decreased (the merit of
// Boyd & Vandenberghe's primal-dual method, 11.7). Mehrotra's predictor sets the centring.
// When the line search stalls near the solution, Newton's method on the active set's KKT
// system polishes the iterate (as the QP method polishes). No infeasibility detection: an
// empty feasible set ends at the iteration limit or in a stalled line search, and the status
// says so.
#include "bilevel/qp/interior_point_qp.hpp"

namespace bilevel {

class InteriorPointQcqp {
public:
  explicit InteriorPointQcqp(InteriorPointQp::Config config) : config_(config) {}
  QpSolution solve(const DenseQp& qp) const;

private:
  InteriorPointQp::Config config_;
};

} // namespace bilevel
