#pragma once
// OptNet/qpth's backward pass: the transposed differential of the full KKT system, every
// inequality row included,
//   [Q  G'D(lambda)  A'] [d_y     ]   [-dl/dy]
//   [G  D(G y - h)   0 ] [d_lambda] = [  0   ]
//   [A  0            0 ] [d_nu    ]   [  0   ]
// solved by a dense LU of size n + m + p (these layers are small), w = lambda .* d_lambda.
// With quadratic constraints, Q is the Hessian of the Lagrangian, G the constraints' Jacobian
// at y* and G y - h their values: the full nonlinear KKT system differentiated.
#include "bilevel/qp/qp_layer_oracle.hpp"

namespace bilevel {

class KktOracle final : public QpLayerOracle {
public:
  std::string name() const override { return "kkt"; }
  QpAdjoint adjoint(const DenseQp& qp, const QpSolution& solution,
                    const Eigen::VectorXd& dl_dy) const override;
};

} // namespace bilevel
