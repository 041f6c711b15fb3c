#pragma once
// The backward pass of a QP layer (docs/algorithms.md §6.2-6.4): given one sample's QP, its
// solution and dl/dy*, the gradients of l with respect to the layer's data q, h, b (and G, A when
// asked, as sudoku_lp needs). Three oracles, chosen by -<prefix>oracle:
//   kkt    exact implicit differentiation of the full KKT system, every inequality row (OptNet)
//   ffoqp  one reduced KKT solve on the rows active by slack (FFOLayer's QP specialisation)
//   ffo    the fully first-order finite-difference Lagrangian formula on the ghost problem
// All three express their result through the adjoint (d_y, w, d_nu) of the KKT conditions, so
//   dl/dq = d_y, dl/dh = -w, dl/db = -d_nu, dl/dG = w y' + lambda d_y', dl/dA = d_nu y' + nu d_y'
// with w = D(lambda) d_lambda (OptNet's notation); ffo evaluates y at y_delta in the products.
// On a layer with quadratic constraints 1/2 y'P_k y + r_k'y <= s_k (a general smooth convex
// layer) the same holds with G replaced by the constraints' Jacobian at y* and Q by the Hessian
// of the Lagrangian, r_k playing the part of a row of G and s_k of an entry of h:
//   dl/dr_k = w_k y + lambda_k d_y,  dl/ds_k = -w_k.
// ffo is then FFOLayer's ffocp: gradients of g and of the constraints only, its ghost problem
// the active constraints linearised at y*; kkt is the implicit differentiation of the full
// nonlinear KKT system (what cvxpylayers does through a cone program); ffoqp is the same
// implicit differentiation restricted to the active rows.
#include "bilevel/qp/dense_qp.hpp"

#include <memory>
#include <string>

namespace bilevel {

struct QpLayerGradient {
  Eigen::VectorXd dq, dh, db;
  Eigen::MatrixXd dG, dA; ///< empty unless requested
  Eigen::MatrixXd dr;     ///< K x n: row k is dl/dr_k of quadratic constraint k
  Eigen::VectorXd ds;     ///< K
};

/// The KKT adjoint an oracle computes; `y_outer` is the y of the outer products above.
struct QpAdjoint {
  Eigen::VectorXd d_y, w, d_nu, y_outer; ///< w: one entry per inequality (m + K)
  /// How the oracle's inner solve ended, for oracles that have one (QpLayerOracle::inner_solver):
  /// a missed tolerance makes the adjoint wrong by about the residual over ffo's delta.
  bool inner_converged = true;
  int inner_iterations = 0;
  int inner_solves = 0; ///< how many inner solves it ran (ffo: the ghost problem at 0 and delta)
  QpLayerGradient gradient(const DenseQp& qp, const QpSolution& solution, bool matrices) const;
};

class QpLayerOracle {
public:
  virtual ~QpLayerOracle() = default;
  virtual std::string name() const = 0;
  /// The name under which an algorithm records the oracle's inner solve (Record::solve) on every
  /// row; empty for the direct solves of kkt and ffoqp.
  virtual std::string inner_solver() const { return {}; }
  virtual QpAdjoint adjoint(const DenseQp& qp, const QpSolution& solution,
                            const Eigen::VectorXd& dl_dy) const = 0;
  QpLayerGradient backward(const DenseQp& qp, const QpSolution& solution,
                           const Eigen::VectorXd& dl_dy, bool matrices) const {
    return adjoint(qp, solution, dl_dy).gradient(qp, solution, matrices);
  }
};

struct QpLayerOracleConfig {
  std::string oracle = "ffoqp";
  double active_tolerance = 1e-8; ///< tau of active_set (dense_qp.hpp)
  double delta = 1e-6;            ///< ffo's finite-difference step
  double ffo_tolerance = 1e-12;   ///< ffo's inner tolerance on the projected gradient
  int ffo_max_iterations = 10000;
  /// Reads -<prefix>oracle, -<prefix>active_tol, -<prefix>delta, -<prefix>ffo_tol,
  /// -<prefix>ffo_max_it.
  static QpLayerOracleConfig from_options(const std::string& prefix);
};

std::unique_ptr<QpLayerOracle> make_qp_layer_oracle(const QpLayerOracleConfig& config);

} // namespace bilevel
