#pragma once
// What the FFO-layer paper's QP-layer methods need beyond the Problem interface: the lower level as
// a dense QP  min_y 1/2 y'Qy + q(x)'y  s.t.  G y <= h, A y = b  at a given x (replicated on every
// rank). The constraints do not depend on x, and grad_y g = Q y + q(x), so d_x(grad_y g)' v (the
// Problem's lower_hess_xy) is (dq/dx)' v.
#include "bilevel/qp/dense_qp.hpp"

namespace bilevel {

class QpLowerLevel {
public:
  virtual ~QpLowerLevel() = default;
  virtual DenseQp lower_qp(const Eigen::VectorXd& x) const = 0;
};

} // namespace bilevel
