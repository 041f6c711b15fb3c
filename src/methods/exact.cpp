#include "bilevel/methods/exact.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

Exact::Config Exact::Config::from_options() {
  return {OuterStepConfig::from_options()};
}

Exact::Exact(Config config) : HypergradientMethod(config.outer) {}

void Exact::setup(Problem& problem, Vec x0) {
  if (!problem.structure().exact_hypergradient)
    throw InputError("algorithm exact needs a closed-form hypergradient, which problem '" +
                     problem.name() + "' does not have");
  HypergradientMethod::setup(problem, x0);
  scratch_grad_ = duplicate(x0);
}

void Exact::hypergradient(Vec x, Vec grad, Record&) {
  problem().exact_hypergradient(x, grad, y_);
}

void Exact::trial_lower_solution(Vec x, Vec y_trial) {
  problem().exact_hypergradient(x, scratch_grad_, y_trial);
}

} // namespace bilevel
