#pragma once
// The inverse lower Hessian applied to a vector by a truncated Neumann series (docs/algorithms.md
// §2.6): with H = grad^2_yy g(x, y) and a step eta <= 1/L,
//   H^{-1} b = eta sum_{k >= 0} (I - eta H)^k b  ~  eta sum_{k < Q} (I - eta H)^k b,
// whose error shrinks by (1 - eta mu) per term. It needs Q - 1 Hessian-vector products and no
// inner product (so no reduction across ranks beyond the products'), which is why stochastic
// bilevel methods use it in place of a Krylov solve.
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

class Problem;

class NeumannSeries {
public:
  /// Work vectors laid out like `y_model`.
  explicit NeumannSeries(Vec y_model);

  /// v = eta sum_{k < terms} (I - eta grad^2_yy g(x, y))^k b (terms >= 1).
  void apply(Problem& problem, Vec x, Vec y, Vec b, int terms, double eta, Vec v);

private:
  OwnedVec term_, product_;
};

} // namespace bilevel
