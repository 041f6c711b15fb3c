#include "bilevel/methods/implicit_differentiation.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

ImplicitDifferentiation::ImplicitDifferentiation(OuterStepConfig outer, InnerSteps inner)
    : HypergradientMethod(outer), inner_steps_(inner) {}

void ImplicitDifferentiation::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  inner_ = std::make_unique<LowerGradientDescent>(y_);
  v_ = problem.create_y();
  BB_PETSC(VecSet(v_, 0.0));
  rhs_ = problem.create_y();
  gx_ = duplicate(x0);
  eta_ = resolve_inner_step(inner_steps_.eta, problem, x0, y_, name(), "-alg_inner_eta");
}

void ImplicitDifferentiation::hypergradient(Vec x, Vec grad, Record& record) {
  inner_->run(problem(), x, y_, inner_steps_.count, eta_);
  problem().upper_gradient(x, y_, gx_, rhs_);
  adjoint(x, y_, rhs_, v_, record);
  problem().lower_hess_xy(x, y_, v_, grad);
  BB_PETSC(VecAYPX(grad, -1.0, gx_)); // grad = grad_x f - grad^2_xy g v
}

void ImplicitDifferentiation::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(y_, y_trial));
  inner_->run(problem(), x, y_trial, inner_steps_.count, eta_);
}

} // namespace bilevel
