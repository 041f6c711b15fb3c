#pragma once
// Base of the implicit-differentiation methods (docs/algorithms.md §2.2, §2.6): T warm-started
// inner gradient steps (1.4) to y_T, then an approximation v of [grad^2_yy g]^{-1} grad_y f at
// (x, y_T), which each subclass computes its own way (a Krylov solve, a Neumann series), and
//   grad Phi ~ grad_x f(x, y_T) - grad^2_xy g(x, y_T) v    (2.2).
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/inner_step.hpp"
#include "bilevel/solvers/lower_gradient_descent.hpp"

#include <memory>

namespace bilevel {

class ImplicitDifferentiation : public HypergradientMethod {
public:
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

protected:
  ImplicitDifferentiation(OuterStepConfig outer, InnerSteps inner);

  /// v ~ [grad^2_yy g(x, y)]^{-1} rhs, v's value on entry being the last one; records the
  /// outcome of a solve that has a tolerance.
  virtual void adjoint(Vec x, Vec y, Vec rhs, Vec v, Record& record) = 0;
  void trial_lower_solution(Vec x, Vec y_trial) override;

  /// The inner step in use: -alg_inner_eta, or 1/L at the start when that is 0.
  double inner_eta() const { return eta_; }

  OwnedVec v_; ///< the adjoint, zero at the start

private:
  InnerSteps inner_steps_;
  double eta_ = 0.0;
  std::unique_ptr<LowerGradientDescent> inner_;
  OwnedVec rhs_, gx_;
};

} // namespace bilevel
