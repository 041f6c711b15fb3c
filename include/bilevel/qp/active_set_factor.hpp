#pragma once
// The KKT matrix of a QP restricted to a set of active rows, factored for repeated solves:
//   [H  C'] [x    ]   [f]      H = Q (or the Hessian of the Lagrangian), n x n, positive definite
//   [C  0 ] [omega] = [g],     C = [J_I; A]: the active rows of the inequality Jacobian, then A.
// By a Cholesky factor H = L L' and the Schur complement S = C H^{-1} C' = W'W with W = L^{-1}C'
// (n^3/3 + n^2 k + n k^2 flops for k = |I| + p rows, against (n + k)^3 * 2/3 for an LU of the
// whole matrix), then each solve is two triangular solves with L and one with S's factor.
//
// Two steps need this matrix for the same rows: the interior point's polishing (the equality QP
// on the rows it takes as active, right-hand side (-q, [h_I; b])) and ffoqp's backward (the
// adjoint, right-hand side (-dl/dy, 0)). The polishing step keeps its factor in the solution
// (QpSolution::active_factor), so a backward on the same active rows is solves only.
#include <Eigen/Dense>

#include <vector>

namespace bilevel {

class ActiveSetFactor {
public:
  /// Factors the matrix for the inequality rows `rows` of the Jacobian J (m x n) and every row
  /// of A (p x n). ok() is false if H is not positive definite.
  ActiveSetFactor(const Eigen::MatrixXd& H, const Eigen::MatrixXd& J, const Eigen::MatrixXd& A,
                  std::vector<Eigen::Index> rows);

  bool ok() const { return chol_.info() == Eigen::Success; }
  /// The inequality rows this factor holds (ascending, as active_set returns them).
  const std::vector<Eigen::Index>& rows() const { return rows_; }

  /// Solves H x + C'omega = f, C x = g; omega lists the active inequality rows, then A's rows.
  void solve(const Eigen::VectorXd& f, const Eigen::VectorXd& g, Eigen::VectorXd& x,
             Eigen::VectorXd& omega) const;

private:
  std::vector<Eigen::Index> rows_;
  Eigen::LLT<Eigen::MatrixXd> chol_;
  Eigen::MatrixXd w_; ///< L^{-1} C', n x (k + p)
  /// S = W'W is only semidefinite when active rows are linearly dependent (LICQ fails); LDLT's
  /// pivoting then still gives a finite solution, which the callers check.
  Eigen::LDLT<Eigen::MatrixXd> schur_;
};

} // namespace bilevel
