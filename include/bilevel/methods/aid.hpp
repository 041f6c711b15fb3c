#pragma once
// AID (approximate implicit differentiation; Ghadimi & Wang, Ji et al. 2021 "AID-BiO";
// docs/algorithms.md §2.2): the implicit-differentiation scheme with the adjoint
// grad^2_yy g v = grad_y f solved by the shared HessianSolver (a KSP on a MatShell Hessian, CG by
// default), warm-started in v.
#include "bilevel/methods/implicit_differentiation.hpp"
#include "bilevel/solvers/hessian_solver.hpp"

#include <memory>

namespace bilevel {

class Aid final : public ImplicitDifferentiation {
public:
  struct Config {
    OuterStepConfig outer;
    InnerSteps inner;
    static Config from_options();
  };
  explicit Aid(Config config) : ImplicitDifferentiation(config.outer, config.inner) {}

  std::string name() const override { return "aid"; }
  void setup(Problem& problem, Vec x0) override;
  /// The warm-start v of the Krylov solve is state too: a restart without it would differ.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;
  std::vector<Vec> step_state() const override { return {y_, v_}; }

protected:
  void adjoint(Vec x, Vec y, Vec rhs, Vec v, Record& record) override;

private:
  std::unique_ptr<HessianSolver> solver_;
};

} // namespace bilevel
