#pragma once
// What the FFO-layer paper's distributed QP method (box_qp_hypergrad) needs beyond the Problem
// interface: the lower level as a bound-constrained QP  min_y 1/2 y'Hy - q(x)'y,  lower <= y <=
// upper, with H and the bounds independent of x. Then grad_y g = H y - q(x), and the Problem's
// lower_hess_xy(v) = d_x(grad_y g)' v is -(dq/dx)' v.
#include "bilevel/qp/box_qp.hpp"

namespace bilevel {

class BoxQpLowerLevel {
public:
  virtual ~BoxQpLowerLevel() = default;
  /// The QP at x; its q is the problem's Vec, valid until the next call.
  virtual BoxQp lower_box_qp(Vec x) = 0;
};

} // namespace bilevel
