#pragma once
// The FFO-layer paper on a large distributed bound-constrained QP lower level (BoxQpLowerLevel,
// e.g. box_qp_bilevel): each outer iteration solves the lower QP by -alg_lower_solver
// (box_qp_solver.hpp: primal-dual active set or PETSc TAO, warm-started from the last y), then
// estimates grad Phi = grad_x f + (dq/dx)' w with the adjoint w = (dy*/dq)' grad_y f(x, y*) of the
// oracle -alg_oracle (box_qp_oracle.hpp): ffoqp (CG on the free rows) or kkt (GMRES on the full KKT
// system). The dense counterpart is qp_hypergrad.
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/qp/box_qp_oracle.hpp"
#include "bilevel/qp/box_qp_solver.hpp"

#include <memory>

namespace bilevel {

class BoxQpLowerLevel;

class BoxQpHypergrad final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    BoxQpSolverConfig lower;
    BoxQpOracleConfig oracle;
    static Config from_options();
  };
  explicit BoxQpHypergrad(Config config);

  std::string name() const override { return "box_qp_hypergrad"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;
  /// y, the adjoint w (ffoqp's warm start) and the kkt oracle's Krylov solution.
  std::vector<Vec> step_state() const override;

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  /// Solves the lower QP at x from y (in place); gradient_ receives H y - q. Throws InputError
  /// when the bounds cross.
  BoxQpResult lower_solution(const BoxQp& qp, Vec y);

  Config config_;
  BoxQpLowerLevel* box_problem_ = nullptr;
  std::unique_ptr<BoxQpSolver> lower_solver_;
  std::unique_ptr<BoxQpOracle> oracle_;
  OwnedVec gradient_, gy_, w_, gx_;
};

} // namespace bilevel
