#include "bilevel/solvers/lower_gradient_descent.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

LowerGradientDescent::LowerGradientDescent(Vec y_model) : grad_(duplicate(y_model)) {}

void LowerGradientDescent::run(Problem& problem, Vec x, Vec y, int steps, double eta,
                               std::vector<OwnedVec>* history) {
  (void)descend(problem, x, y, steps, eta, history, -1.0);
}

int LowerGradientDescent::run_until(Problem& problem, Vec x, Vec y, int max_steps, double eta,
                                    double target) {
  return descend(problem, x, y, max_steps, eta, nullptr, target);
}

int LowerGradientDescent::descend(Problem& problem, Vec x, Vec y, int steps, double eta,
                                  std::vector<OwnedVec>* history, double target) {
  LogScope scope(log_events().inner_solve);
  if (history) {
    while (history->size() < static_cast<std::size_t>(steps))
      history->push_back(duplicate(y));
  }
  const ConstraintSet* set = problem.lower_set();
  for (int t = 0; t < steps; ++t) {
    throw_if_interrupted(problem.comm());
    if (history)
      BB_PETSC(VecCopy(y, (*history)[static_cast<std::size_t>(t)]));
    problem.lower_gradient(x, y, nullptr, grad_);
    if (target >= 0) {
      PetscReal norm = 0;
      BB_PETSC(VecNorm(grad_, NORM_2, &norm));
      if (norm * norm <= target)
        return t;
    }
    BB_PETSC(VecAXPY(y, -eta, grad_));
    if (set)
      set->project(y, y);
  }
  return steps;
}

} // namespace bilevel
