#pragma once
// A Cholesky factor H = L L' of a dense symmetric positive definite matrix by LAPACK's dpotrf
// (OpenBLAS here), and solves with it. The interior point factors one such
// matrix per Newton step, so its rate sets the forward's: at n = 1000 Eigen's LLT, whose diagonal
// blocks run in Eigen's own (SSE2, no FMA) kernels, reached 7.5 GFLOP/s on this machine and
// dpotrf 36, against a dgemm rate of 42-46 (docs/ffo-qp-layers.md).
#include <Eigen/Dense>

namespace bilevel {

class DenseCholesky {
public:
  DenseCholesky() = default;
  /// Factors H (its lower triangle is read); ok() says whether H was positive definite.
  explicit DenseCholesky(Eigen::MatrixXd H) { compute(std::move(H)); }
  void compute(Eigen::MatrixXd H);
  bool ok() const { return ok_; }

  /// H^{-1} b.
  Eigen::VectorXd solve(const Eigen::VectorXd& b) const;
  /// X <- H^{-1} X (every column).
  void solve_in_place(Eigen::MatrixXd& X) const;
  /// X <- L^{-1} X, and X <- L^{-T} X.
  void solve_lower_in_place(Eigen::MatrixXd& X) const;
  void solve_lower_in_place(Eigen::VectorXd& x) const;
  void solve_upper_in_place(Eigen::VectorXd& x) const;

private:
  Eigen::MatrixXd factor_; ///< L in the lower triangle (the upper is H's, unused)
  bool ok_ = false;
};

} // namespace bilevel
