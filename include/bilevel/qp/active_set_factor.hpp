#pragma once
// The KKT matrix of a QP restricted to a set of active rows, factored for repeated solves:
//   [H  C'] [x    ]   [f]      H = Q (or the Hessian of the Lagrangian), n x n, positive definite
//   [C  0 ] [omega] = [g],     C = [J_I; A]: the active rows of the inequality Jacobian, then A.
// By a factor H = L L' (HessianFactor) and the Schur complement S = C H^{-1} C' = W'W with
// W = L^{-1}C' (n^3/3 + n^2 k + n k^2 flops for k = |I| + p rows, against (n + k)^3 * 2/3 for an
// LU of the whole matrix), then each solve is two triangular solves with L and one with S's
// factor. With no active rows this is the interior point's reduced Newton matrix, H = Q + G'WG.
//
// When H is diagonal and the active rows are bounds on distinct variables (BoundStructure), the
// bounds fix those variables and the rest is the Schur complement on A's columns of the free
// variables: p x p, O(n p^2 + p^3) flops, however many bounds are active (sudoku_lp: ~650 of 729).
//
// Two steps need this matrix for the same rows: the interior point's polishing (the equality QP
// on the rows it takes as active, right-hand side (-q, [h_I; b])) and ffoqp's backward (the
// adjoint, right-hand side (-dl/dy, 0)). The polishing step keeps its factor in the solution
// (QpSolution::active_factor), so a backward on the same active rows is solves only.
#include "bilevel/qp/bound_structure.hpp"
#include "bilevel/qp/hessian_factor.hpp"

#include <Eigen/Dense>

#include <utility>
#include <vector>

namespace bilevel {

class ActiveSetFactor {
public:
  /// Factors the matrix for the inequality rows `rows` of the Jacobian J (m x n) and every row
  /// of A (p x n). ok() is false if H is not positive definite. `bounds`, if given, describes J
  /// (BoundStructure::column/coefficient) and is used when H is diagonal.
  ActiveSetFactor(HessianFactor H, const Eigen::MatrixXd& J, const Eigen::MatrixXd& A,
                  std::vector<Eigen::Index> rows, const BoundStructure* bounds = nullptr);
  /// The same with a dense Cholesky factor of H.
  ActiveSetFactor(const Eigen::MatrixXd& H, const Eigen::MatrixXd& J, const Eigen::MatrixXd& A,
                  std::vector<Eigen::Index> rows)
      : ActiveSetFactor(HessianFactor(H), J, A, std::move(rows)) {}
  /// The factor for a QP without quadratic constraints (H = Q, J = G): with the bounds
  /// eliminated if `bounds` (the QP's BoundStructure) is given, with a diagonal HessianFactor if
  /// Q is diagonal.
  static ActiveSetFactor of_qp(const DenseQp& qp, std::vector<Eigen::Index> rows,
                               const BoundStructure* bounds);

  bool ok() const { return h_.ok(); }
  /// The inequality rows this factor holds (ascending, as active_set returns them).
  const std::vector<Eigen::Index>& rows() const { return rows_; }

  /// H's dense factor storage, for the next factor of the same size (HessianFactor::
  /// release_storage); the factor is unusable afterwards.
  Eigen::MatrixXd release_storage() && { return std::move(h_).release_storage(); }

  /// Solves H x + C'omega = f, C x = g; omega lists the active inequality rows, then A's rows.
  void solve(const Eigen::VectorXd& f, const Eigen::VectorXd& g, Eigen::VectorXd& x,
             Eigen::VectorXd& omega) const;

private:
  void solve_bounds(const Eigen::VectorXd& f, const Eigen::VectorXd& g, Eigen::VectorXd& x,
                    Eigen::VectorXd& omega) const;

  std::vector<Eigen::Index> rows_;
  HessianFactor h_;
  Eigen::MatrixXd w_; ///< L^{-1} C', n x (k + p); with fixed_: L^{-1} A' with the fixed rows 0
  /// With bound rows eliminated: the variable each active row fixes, and its coefficient.
  std::vector<Eigen::Index> fixed_;
  Eigen::VectorXd fixed_coefficient_;
  Eigen::MatrixXd a_fixed_; ///< A's columns of the fixed variables, p x k
  /// S = W'W is only semidefinite when active rows are linearly dependent (LICQ fails); LDLT's
  /// pivoting then still gives a finite solution, which the callers check.
  Eigen::LDLT<Eigen::MatrixXd> schur_;
};

} // namespace bilevel
