#pragma once
// FFOQP (docs/algorithms.md §6.3, FFOLayer's QP specialisation): with the active set I (active_set
// in dense_qp.hpp: by slack, or by a multiplier above the slack; FFOLayer's slack-only rule with
// its absolute tau misses binding rows an interior point leaves at a slack above tau), the
// perturbed ghost problem is an equality QP, linear in delta, so its finite-difference quotient
// is exact and equals one reduced KKT solve
//   [Q  C'] [d_y  ]   [-dl/dy]      C = [G_I; A]  (inactive rows dropped),
//   [C  0 ] [omega] = [  0   ],
// done by a Cholesky factor of Q and the Schur complement S = C Q^{-1} C' (k x k), as FFOLayer
// does (ActiveSetFactor); omega = (w_I, d_nu). The interior point's polishing factors the same
// matrix when it takes the same rows as active, and the solution keeps that factor: the backward
// is then two triangular solves with Q's factor and one with S's, no factorisation. With
// quadratic constraints, Q is the Hessian of the Lagrangian and G_I the active constraints'
// Jacobian at y*: exact implicit differentiation on the active set.
#include "bilevel/qp/qp_layer_oracle.hpp"

namespace bilevel {

class FfoQpOracle final : public QpLayerOracle {
public:
  explicit FfoQpOracle(double active_tolerance) : active_tolerance_(active_tolerance) {}
  std::string name() const override { return "ffoqp"; }
  QpAdjoint adjoint(const DenseQp& qp, const QpSolution& solution,
                    const Eigen::VectorXd& dl_dy) const override;

private:
  double active_tolerance_;
};

} // namespace bilevel
