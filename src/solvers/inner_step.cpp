#include "bilevel/solvers/inner_step.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"

#include <cmath>

namespace bilevel {

InnerSteps InnerSteps::from_options(const char* count_help) {
  InnerSteps s;
  s.count = static_cast<int>(options::get_int("-alg_inner_iters", s.count, 1, 1000000, count_help));
  s.eta = options::get_real("-alg_inner_eta", s.eta, 0.0, 1e12,
                            "inner step size; 0 = 1/L from the problem's estimate");
  return s;
}

double resolve_inner_step(double given, Problem& problem, Vec x0, Vec y0,
                          const std::string& algorithm, const std::string& option) {
  if (given > 0)
    return given;
  const double lipschitz = problem.lower_curvature(x0, y0, CurvatureNeed::lipschitz).lipschitz;
  if (!(lipschitz > 0) || !std::isfinite(lipschitz))
    throw InputError("algorithm " + algorithm + ": problem '" + problem.name() + "' gives L = " +
                     std::to_string(lipschitz) + " for grad_y g, so there is no 1/L step; set " +
                     option + " to a positive step");
  return 1.0 / lipschitz;
}

} // namespace bilevel
