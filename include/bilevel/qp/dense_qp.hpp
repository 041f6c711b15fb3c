#pragma once
// A small dense convex QP, one per sample of a QP layer (docs/algorithms.md §6.1):
//   min 1/2 y'Qy + q'y  s.t.  G y <= h,  1/2 y'P_k y + r_k'y <= s_k (k = 1..K),  A y = b,
// what a solver returns for it, and the measures of optimality every solver and test shares
// (KKT residuals; the active set by slack, as FFOLayer chooses it). The convex quadratic
// constraints (P_k positive semidefinite: a risk budget y'Sigma y <= sigma^2, a ball) make it a
// general smooth convex layer (FFOLayer's ffocp case); without them it is a QP. Every row-wise
// quantity (slacks, multipliers, the active set) numbers the rows of G first, then the K
// quadratic constraints.
#include <Eigen/Dense>

#include <memory>
#include <string>
#include <vector>

namespace bilevel {

class ActiveSetFactor; // active_set_factor.hpp

/// 1/2 y'P y + r'y <= s, P symmetric positive semidefinite.
struct QuadraticConstraint {
  Eigen::MatrixXd P;
  Eigen::VectorXd r;
  double s = 0;
  double value(const Eigen::VectorXd& y) const { return 0.5 * y.dot(P * y) + r.dot(y); }
};

struct DenseQp {
  Eigen::MatrixXd Q; ///< n x n, symmetric positive definite (g strongly convex)
  Eigen::VectorXd q; ///< n
  Eigen::MatrixXd G; ///< m x n (m may be 0)
  Eigen::VectorXd h; ///< m
  Eigen::MatrixXd A; ///< p x n (p may be 0)
  Eigen::VectorXd b; ///< p
  std::vector<QuadraticConstraint> quadratic; ///< K (usually 0)

  Eigen::Index n() const { return q.size(); }
  Eigen::Index linear_rows() const { return G.rows(); }
  /// m + K: every inequality, linear rows first.
  Eigen::Index inequalities() const {
    return G.rows() + static_cast<Eigen::Index>(quadratic.size());
  }
  /// The m + K slacks of the inequalities at y (h - G y, then s_k - 1/2 y'P_k y - r_k'y).
  Eigen::VectorXd slack(const Eigen::VectorXd& y) const;
  /// Their (m + K) x n Jacobian at y, up to the sign: rows G, then (P_k y + r_k)'.
  Eigen::MatrixXd inequality_jacobian(const Eigen::VectorXd& y) const;
  /// The Hessian of the Lagrangian in y: Q + sum_k lambda_{m+k} P_k.
  Eigen::MatrixXd lagrangian_hessian(const Eigen::VectorXd& lambda) const;
  /// Throws InputError naming the inconsistent dimensions.
  void validate() const;
};

enum class QpStatus {
  kSolved,         ///< KKT residuals within the tolerance
  kInfeasible,     ///< an (approximate) Farkas certificate of G y <= h, A y = b being empty
  kMaxIterations,  ///< the iteration limit came first; the last iterate is returned
  kNumericalError, ///< a Newton step was not finite; the last finite iterate is returned
};
std::string to_string(QpStatus status);

struct QpSolution {
  Eigen::VectorXd y;      ///< primal
  Eigen::VectorXd lambda; ///< inequality multipliers, >= 0, one per inequality (m + K)
  Eigen::VectorXd nu;     ///< equality multipliers, one per row of A
  QpStatus status = QpStatus::kSolved;
  int iterations = 0;
  /// The KKT matrix on the active rows, factored by the interior point's polishing step for the
  /// QP this solves (null if the solution was not polished); ffoqp's backward reuses it when its
  /// active set is the same rows. About n^2 + n r + r^2 doubles for r active rows and equalities.
  std::shared_ptr<const ActiveSetFactor> active_factor;
};

/// Infinity norms of the four KKT conditions at a candidate solution.
struct KktResiduals {
  double stationarity;    ///< ||Q y + q + J(y)'lambda + A'nu|| (J = inequality_jacobian)
  double primal;          ///< max((-slack)_+, |A y - b|)
  double dual;            ///< max((-lambda)_+)
  double complementarity; ///< max |lambda_i slack_i|
  double max() const;
};
KktResiduals kkt_residuals(const DenseQp& qp, const QpSolution& solution);

/// Rows with slack <= tau (FFOLayer's rule, tau = 1e-8 there).
std::vector<Eigen::Index> active_by_slack(const DenseQp& qp, const Eigen::VectorXd& y, double tau);

/// The rows the backward passes treat as active: slack h_i - G_i y <= tau, or a multiplier above
/// tau that exceeds the slack. An interior point stops once lambda_i s_i is within its
/// complementarity tolerance, which is relative to the data: a binding row may keep a slack far
/// above any fixed tau (5e-8 to 1.2e-7 on sudoku_lp at the default tolerance, |b| ~ 32), but its
/// multiplier is larger still, and an inactive row's multiplier is complementarity / slack. Of
/// the complementary pair the larger decides, so the rule follows the accuracy the solver
/// reached; only rows with both below sqrt(complementarity) (weakly active) remain ambiguous,
/// and either choice is then a valid one-sided derivative.
std::vector<Eigen::Index> active_set(const DenseQp& qp, const QpSolution& solution, double tau);

} // namespace bilevel
