#pragma once
// The constraint of the PGD-QP paper's single-level reformulation (eq. 4): h(x, y) = ||grad_y g(x,
// y)||^2, and its gradient from two Hessian-vector products, no finite differences (Remark 3.1):
//   grad h = 2 [grad^2_xy g . grad_y g ; grad^2_yy g . grad_y g]
// (docs/algorithms.md §4.1 keeps the factor 2 the paper drops; it only rescales alpha and lambda).
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

class Problem;

class LowerStationarity {
public:
  /// Work vectors laid out like `y_model`.
  explicit LowerStationarity(Vec y_model);

  /// h(x, y); also grad h into the joint vector `grad_h` (create_joint) unless it is nullptr.
  /// Afterwards lower_gradient() holds grad_y g(x, y).
  double evaluate(Problem& problem, Vec x, Vec y, Vec grad_h);
  Vec lower_gradient() const { return grad_y_g_; }

private:
  OwnedVec grad_y_g_;
};

} // namespace bilevel
