#pragma once
// Hypergradient oracles of a distributed bound-constrained QP (BoxQp) at its solution y*: the
// adjoint w = (dy*/dq)' dl/dy, from which a bilevel method gets grad Phi = grad_x f +
// (dq/dx)' w. Two oracles, chosen by -<prefix>oracle (the Vec counterparts of the dense ones):
//   ffoqp  one reduced solve on the free rows (slack to both bounds > -<prefix>active_tol):
//          H_FF w_F = (dl/dy)_F by CG on the assembled submatrix, w = 0 on the active rows
//   kkt    the full KKT system of all 2n bound rows and their multipliers (OptNet), solved by
//          GMRES on a MatShell of size 3n
// With strict complementarity both give the same w.
#include "bilevel/core/operator_solver.hpp"
#include "bilevel/qp/box_qp.hpp"

#include <memory>
#include <string>

namespace bilevel {

class BoxQpOracle {
public:
  using Outcome = KrylovOutcome;
  virtual ~BoxQpOracle() = default;
  /// w = (dy*/dq)' dl_dy at y* with gradient H y* - q. Both warm-start the Krylov solve across
  /// calls: ffoqp from w's free entries on entry, kkt from its own last solution.
  virtual Outcome adjoint(const BoxQp& qp, Vec y, Vec gradient, Vec dl_dy, Vec w) = 0;
  /// The Krylov warm start the oracle keeps between calls (a restart must restore it to continue
  /// exactly); nullptr when it keeps none.
  virtual Vec kept_warm_start() const { return nullptr; }
};

struct BoxQpOracleConfig {
  std::string oracle = "ffoqp";
  double active_tolerance = 1e-8; ///< ffoqp: slack threshold of the active set
  double rtol = 1e-12; ///< Krylov relative tolerance (default of -<prefix><oracle>_ksp_rtol)
  /// Reads -<prefix>oracle, -<prefix>active_tol and declares both oracles' Krylov options
  /// (-<prefix>ffoqp_ksp_*, -<prefix>kkt_ksp_*).
  static BoxQpOracleConfig from_options(const std::string& prefix);
};

/// The oracle `config.oracle`, its Krylov options under -<prefix><oracle>_, Vecs like y_model.
std::unique_ptr<BoxQpOracle> make_box_qp_oracle(const BoxQpOracleConfig& config, Vec y_model,
                                                const std::string& prefix);

} // namespace bilevel
