#pragma once
// The structure that makes a QP's Newton systems cheap: Q diagonal and every inequality a scaled
// bound (each row of G has at most one nonzero, as y >= 0 in sudoku_lp or box constraints).
// Then Q + G'WG is diagonal for every diagonal W, and the interior point's Newton step and the
// active-set solve reduce to a Schur complement on the equality rows (ActiveSetFactor): per
// iteration O(n p^2 + p^3) flops instead of O(n^3 + n^2 p); and the products with Q and G that
// the residuals and refinements need are O(n + m) instead of O(n^2 + m n).
#include "bilevel/qp/dense_qp.hpp"

#include <optional>
#include <vector>

namespace bilevel {

/// M's diagonal if M has no other nonzero (compared with exact zero), else nullopt.
std::optional<Eigen::VectorXd> diagonal_of(const Eigen::MatrixXd& M);

struct BoundStructure {
  Eigen::VectorXd q_diagonal;       ///< Q's diagonal (Q has no other nonzero)
  std::vector<Eigen::Index> column; ///< per row of G: the column of its nonzero, -1 if none
  Eigen::VectorXd coefficient;      ///< per row of G: that nonzero (0 if none)

  /// diag(Q + G' diag(w) G).
  Eigen::VectorXd hessian(const Eigen::VectorXd& w) const;
  /// G v and G'u in O(m) (the dense products read all m n entries).
  Eigen::VectorXd times(const Eigen::VectorXd& v) const;
  Eigen::VectorXd transpose_times(const Eigen::VectorXd& u) const;

  /// The structure of a QP without quadratic constraints whose Q is diagonal and whose G has at
  /// most one nonzero per row (entries compared with exact zero); nullopt otherwise.
  static std::optional<BoundStructure> of(const DenseQp& qp);
};

} // namespace bilevel
