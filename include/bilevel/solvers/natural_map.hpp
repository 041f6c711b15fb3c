#pragma once
// The natural-map step of a VI and its derivatives (docs/algorithms.md §3.2, paper eq. 8 and
// Theorem 5):  z_b(y, x) = P_Y(u),  u = y - F(y, x)/b,  D = DP_Y(u) (symmetric), so
//   grad_y z_b v  = D (v - grad_y F v / b),      grad_y z_b' v = v' - grad_y F' v' / b,  v' = D v,
//   grad_x z_b w  = -D grad_x F w / b,           grad_x z_b' v = -grad_x F' D v / b.
// Every product takes the (y, u) pair of one step, so callers that keep u avoid re-evaluating F.
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class Problem;

/// The natural map's parameter b and the contraction factor q it gives.
struct NaturalMapParameter {
  double b;
  double q; ///< NaN when mu = 0 (no guarantee); >= 1 when a given b breaks the condition
};

/// Resolves -alg_b at (x0, y0): 0 = L for a lower objective (F = grad_y g; projected gradient step,
/// factor q = 1 - mu/b) and L^2/mu for a VI (Lemma 12, q = sqrt(1 - 2 mu/b + L^2/b^2)). Throws
/// InputError naming `algorithm` when mu = 0 and b is not given.
NaturalMapParameter resolve_natural_map_parameter(double b_option, Problem& problem, Vec x0, Vec y0,
                                                  const std::string& algorithm);

class NaturalMap {
public:
  /// Work vectors laid out like `y_model`.
  NaturalMap(Problem& problem, Vec y_model, double b);
  double b() const { return b_; }

  /// u = y - F(y, x)/b and y_next = P_Y(u); y_next may alias y.
  void step(Vec x, Vec y, Vec u, Vec y_next);

  void jac_y(Vec x, Vec y, Vec u, Vec v, Vec out);
  void jac_y_transpose(Vec x, Vec y, Vec u, Vec v, Vec out);
  void jac_x(Vec x, Vec y, Vec u, Vec w, Vec out_y);
  void jac_x_transpose(Vec x, Vec y, Vec u, Vec v, Vec out_x);

private:
  /// out = DP_Y(u) v (v itself when Y = R^n).
  void project_jacobian(Vec u, Vec v, Vec out) const;

  Problem& problem_;
  double b_;
  OwnedVec work_;
};

} // namespace bilevel
