#include "bilevel/algorithms/exact.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

namespace {
constexpr double kDefaultOuterStep = 0.1;
}

Exact::Exact() : HypergradientMethod(kDefaultOuterStep) {}

void Exact::declare_options() {
  (void)OuterStepConfig::from_options(kDefaultOuterStep);
}

void Exact::setup(Problem& problem, Vec x0) {
  if (!problem.has_exact_hypergradient())
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
