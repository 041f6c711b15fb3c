#pragma once
// AID (approximate implicit differentiation; Ghadimi & Wang, Ji et al. 2021 "AID-BiO"):
// T warm-started inner gradient steps, then grad^2_yy g v = grad_y f solved by the shared
// HessianSolver (a KSP on a MatShell Hessian, CG by default), warm-started in v, and
// grad Phi ~ grad_x f - grad^2_xy g v.
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/hessian_solver.hpp"
#include "bilevel/solvers/inner_step.hpp"
#include "bilevel/solvers/lower_gradient_descent.hpp"

#include <memory>

namespace bilevel {

class Aid final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    InnerSteps inner;
    static Config from_options();
  };
  explicit Aid(Config config);

  std::string name() const override { return "aid"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;
  /// The warm-start v of the Krylov solve is state too: a restart without it would differ.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;
  std::vector<Vec> step_state() const override { return {y_, v_}; }

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  Config config_;
  double eta_ = 0.0;
  std::unique_ptr<LowerGradientDescent> inner_;
  std::unique_ptr<HessianSolver> solver_;
  OwnedVec v_, rhs_, gx_;
};

} // namespace bilevel
