#include "bilevel/qp/active_set_factor.hpp"

#include <utility>

namespace bilevel {

ActiveSetFactor::ActiveSetFactor(const Eigen::MatrixXd& H, const Eigen::MatrixXd& J,
                                 const Eigen::MatrixXd& A, std::vector<Eigen::Index> rows)
    : rows_(std::move(rows)), chol_(H) {
  if (!ok())
    return;
  const Eigen::Index n = H.rows(), k = static_cast<Eigen::Index>(rows_.size()), p = A.rows();
  w_.resize(n, k + p);
  for (Eigen::Index r = 0; r < k; ++r)
    w_.col(r) = J.row(rows_[static_cast<std::size_t>(r)]).transpose();
  w_.rightCols(p) = A.transpose();
  chol_.matrixL().solveInPlace(w_); // one triangular solve (dtrsm), k + p right-hand sides
  if (k + p == 0)
    return;
  // S = W'W by a symmetric rank update (dsyrk, half a general product); LDLT reads the lower
  // triangle only.
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(k + p, k + p);
  S.selfadjointView<Eigen::Lower>().rankUpdate(w_.transpose());
  schur_.compute(S);
}

void ActiveSetFactor::solve(const Eigen::VectorXd& f, const Eigen::VectorXd& g, Eigen::VectorXd& x,
                            Eigen::VectorXd& omega) const {
  // x = H^{-1}(f - C'omega) = L^{-T}(v - W omega) with v = L^{-1} f; C x = g gives
  // S omega = W'v - g.
  Eigen::VectorXd v = f;
  chol_.matrixL().solveInPlace(v);
  if (w_.cols() > 0) {
    omega = schur_.solve(w_.transpose() * v - g);
    v.noalias() -= w_ * omega;
  } else {
    omega.resize(0);
  }
  chol_.matrixU().solveInPlace(v);
  x = std::move(v);
}

} // namespace bilevel
