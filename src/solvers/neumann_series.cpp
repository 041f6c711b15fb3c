#include "bilevel/solvers/neumann_series.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

NeumannSeries::NeumannSeries(Vec y_model)
    : term_(duplicate(y_model)), product_(duplicate(y_model)) {}

void NeumannSeries::apply(Problem& problem, Vec x, Vec y, Vec b, int terms, double eta, Vec v) {
  LogScope scope(log_events().linear_solve);
  // term_k = (I - eta H)^k b, accumulated into v = eta sum_k term_k.
  BB_PETSC(VecCopy(b, term_));
  BB_PETSC(VecCopy(b, v));
  for (int k = 1; k < terms; ++k) {
    throw_if_interrupted(problem.comm());
    problem.lower_hess_yy(x, y, term_, product_);
    BB_PETSC(VecAXPY(term_, -eta, product_));
    BB_PETSC(VecAXPY(v, 1.0, term_));
  }
  BB_PETSC(VecScale(v, eta));
}

} // namespace bilevel
