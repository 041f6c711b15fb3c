#include "bilevel/qp/box_qp_oracle.hpp"

#include "bilevel/core/operator_solver.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/qp/box_ffoqp_oracle.hpp"
#include "bilevel/qp/box_kkt_oracle.hpp"

namespace bilevel {

BoxQpOracleConfig BoxQpOracleConfig::from_options(const std::string& prefix) {
  BoxQpOracleConfig c;
  const std::string p = "-" + prefix;
  c.oracle = options::get_choice(p + "oracle", c.oracle, {"ffoqp", "kkt"},
                                 "hypergradient oracle: reduced CG on the free rows (ffoqp) or "
                                 "GMRES on the full KKT system with every bound row (kkt)");
  c.active_tolerance = options::get_positive(p + "active_tol", c.active_tolerance,
                                             "ffoqp: rows within this of a bound are active");
  OperatorSolver::declare_options(prefix + "ffoqp_", KSPCG, c.rtol);
  OperatorSolver::declare_options(prefix + "kkt_", KSPGMRES, c.rtol);
  return c;
}

std::unique_ptr<BoxQpOracle> make_box_qp_oracle(const BoxQpOracleConfig& config, Vec y_model,
                                                const std::string& prefix) {
  if (config.oracle == "kkt")
    return std::make_unique<BoxKktOracle>(y_model, config.rtol, prefix + "kkt_");
  return std::make_unique<BoxFfoQpOracle>(config.active_tolerance, config.rtol, prefix + "ffoqp_");
}

} // namespace bilevel
