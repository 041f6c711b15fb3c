#include "bilevel/qp/qp_layer_oracle.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/qp/ffo_oracle.hpp"
#include "bilevel/qp/ffoqp_oracle.hpp"
#include "bilevel/qp/kkt_oracle.hpp"

namespace bilevel {

QpLayerGradient QpAdjoint::gradient(const DenseQp& qp, const QpSolution& solution,
                                    bool matrices) const {
  const Eigen::Index m = qp.linear_rows(), K = qp.inequalities() - m;
  QpLayerGradient g;
  g.dq = d_y;
  g.dh = -w.head(m);
  g.db = -d_nu;
  g.ds = -w.tail(K);
  g.dr = w.tail(K) * y_outer.transpose() + solution.lambda.tail(K) * d_y.transpose();
  if (matrices) {
    g.dG = w.head(m) * y_outer.transpose() + solution.lambda.head(m) * d_y.transpose();
    g.dA = d_nu * y_outer.transpose() + solution.nu * d_y.transpose();
  }
  return g;
}

QpLayerOracleConfig QpLayerOracleConfig::from_options(const std::string& prefix) {
  QpLayerOracleConfig c;
  const std::string p = "-" + prefix;
  c.oracle = options::get_choice(p + "oracle", c.oracle, {"ffo", "ffoqp", "kkt"},
                                 "QP-layer hypergradient oracle: fully first-order (ffo), its QP "
                                 "specialisation (ffoqp), or the full KKT system (kkt)");
  c.active_tolerance = options::get_positive(p + "active_tol", c.active_tolerance,
                                             "active rows: slack at most this, or a multiplier "
                                             "above it that exceeds the slack");
  c.delta = options::get_positive(p + "delta", c.delta, "ffo's finite-difference step delta");
  c.ffo_tolerance = options::get_positive(p + "ffo_tol", c.ffo_tolerance,
                                          "ffo's inner tolerance (projected gradient, inf-norm)");
  c.ffo_max_iterations = static_cast<int>(options::get_int(
      p + "ffo_max_it", c.ffo_max_iterations, 1, 100000000, "ffo's inner iteration limit"));
  return c;
}

std::unique_ptr<QpLayerOracle> make_qp_layer_oracle(const QpLayerOracleConfig& config) {
  if (config.oracle == "kkt")
    return std::make_unique<KktOracle>();
  if (config.oracle == "ffoqp")
    return std::make_unique<FfoQpOracle>(config.active_tolerance);
  return std::make_unique<FfoOracle>(config);
}

} // namespace bilevel
