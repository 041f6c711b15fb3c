#pragma once
// H = L L' for the reduced KKT systems of the QP solvers (ActiveSetFactor): a dense Cholesky
// factor, or, when H is diagonal, its square root. H is diagonal for the interior point's Newton
// matrix Q + G'WG whenever Q is diagonal and the inequalities are scaled bounds (BoundStructure):
// the factor then costs n square roots instead of n^3 / 3 flops, and each triangular solve n
// products instead of n^2.
#include <Eigen/Dense>

#include <utility>

namespace bilevel {

class HessianFactor {
public:
  /// Cholesky factor of the dense symmetric H (its lower triangle is read), computed in H's own
  /// storage: a caller that moves H in saves the n^2 copy an Eigen::LLT makes.
  explicit HessianFactor(Eigen::MatrixXd H);
  /// H = diag(diagonal).
  explicit HessianFactor(const Eigen::VectorXd& diagonal);

  /// False if H is not (numerically) positive definite.
  bool ok() const { return ok_; }
  bool diagonal() const { return diagonal_; }
  Eigen::Index size() const { return diagonal_ ? inv_sqrt_.size() : lower_.rows(); }
  /// H's diagonal factor's inverse, L^{-1} = diag(1 / sqrt(d)) (diagonal() only).
  const Eigen::VectorXd& inverse_sqrt() const { return inv_sqrt_; }

  /// Hands the dense factor's storage (n x n) back for the next matrix of the same size, so an
  /// iteration that factors a new matrix each step allocates (and page-faults) it only once.
  /// The factor is unusable afterwards.
  Eigen::MatrixXd release_storage() && { return std::move(lower_); }

  /// X <- L^{-1} X.
  template <class Derived> void solve_lower(Eigen::MatrixBase<Derived>& X) const {
    if (diagonal_)
      X = inv_sqrt_.asDiagonal() * X;
    else
      lower_.triangularView<Eigen::Lower>().solveInPlace(X);
  }
  /// X <- L^{-T} X.
  template <class Derived> void solve_upper(Eigen::MatrixBase<Derived>& X) const {
    if (diagonal_)
      X = inv_sqrt_.asDiagonal() * X;
    else
      lower_.triangularView<Eigen::Lower>().transpose().solveInPlace(X);
  }

private:
  bool diagonal_ = false, ok_ = false;
  Eigen::MatrixXd lower_; ///< L in the lower triangle (the upper one holds H's)
  Eigen::VectorXd inv_sqrt_;
};

} // namespace bilevel
