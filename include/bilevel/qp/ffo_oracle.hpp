#pragma once
// The fully first-order oracle (docs/algorithms.md §6.4; the paper's Algorithm 1 / eq. 11) on a QP
// layer, with the objective-agnostic upper level <dl/dy*, y> (Section 5):
//   I = active_set(qp, solution, tau) (dense_qp.hpp: slack <= tau, or lambda_i > tau and
//   lambda_i > slack); the printed rule (lambda_i > tau or slack <= tau) takes in inactive rows
//   of small slack, whose multiplier at an interior-point solution is complementarity / slack
//   > tau, so of the complementary pair the larger decides;
//   ghost objective g~ = g + lambda_I'(G_I y - h_I), constraints G_I y = h_I, A y = b;
//   y_delta = argmin g~ + delta <dl/dy*, y> over them, by projected gradient descent
//   (AffineGradientDescent: gradients only), multipliers by least squares;
//   gradient = [grad_theta L_delta(y_delta, nu_delta) - grad_theta L_0(y*, nu_0)] / delta.
// Its error is the inner tolerance over delta (the ghost problem of a QP layer is quadratic, so
// there is no O(delta) term here; qp_bilevel's nonlinear upper level shows that one).
// On a layer with quadratic constraints this is FFOLayer's ffocp: an active quadratic row enters
// the ghost objective as lambda_k (1/2 y'P_k y + r_k'y) and its constraint linearised at y*;
// dl/dr_k = w_k y_delta + lambda_k d_y then carries an O(delta) error.
#include "bilevel/qp/qp_layer_oracle.hpp"

namespace bilevel {

class FfoOracle final : public QpLayerOracle {
public:
  explicit FfoOracle(const QpLayerOracleConfig& config) : config_(config) {}
  std::string name() const override { return "ffo"; }
  std::string inner_solver() const override { return "ffo_inner"; }
  QpAdjoint adjoint(const DenseQp& qp, const QpSolution& solution,
                    const Eigen::VectorXd& dl_dy) const override;

private:
  QpLayerOracleConfig config_;
};

} // namespace bilevel
