#include "bilevel/solvers/hypergradient_check.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"

#include <algorithm>

namespace bilevel {

bool HypergradientCheck::requested() {
  return options::get_bool("-alg_check_exact", false,
                           "trace hypergrad_error against the problem's closed form");
}

HypergradientCheck::HypergradientCheck(Problem& problem, Vec x_model, const std::string& algorithm)
    : problem_(problem), x_(duplicate(x_model)), exact_(duplicate(x_model)) {
  if (!problem.structure().exact_hypergradient)
    throw InputError("-alg_check_exact (algorithm " + algorithm +
                     ") needs a closed-form hypergradient, which problem '" + problem.name() +
                     "' does not have");
}

void HypergradientCheck::remember(Vec x) {
  BB_PETSC(VecCopy(x, x_));
}

void HypergradientCheck::report(Vec grad, Record& record) {
  problem_.exact_hypergradient(x_, exact_, nullptr);
  PetscReal exact_norm = 0, diff_norm = 0;
  BB_PETSC(VecNorm(exact_, NORM_2, &exact_norm));
  BB_PETSC(VecAYPX(exact_, -1.0, grad)); // grad - exact
  BB_PETSC(VecNorm(exact_, NORM_2, &diff_norm));
  record.set("hypergrad_error", diff_norm / std::max(exact_norm, 1e-300));
}

} // namespace bilevel
