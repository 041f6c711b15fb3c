#pragma once
// The lower-level step every gradient-based method takes by default: a step given on the
// command line, or 1/L of grad_y g at the starting point when it is given as 0.
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class Problem;

/// -alg_inner_iters and -alg_inner_eta, declared once for every method that takes T lower-level
/// gradient steps (AID, ITD, BDA, BOME).
struct InnerSteps {
  int count = 10;   ///< T
  double eta = 0.0; ///< <= 0: 1/L from the problem's curvature estimate
  /// Reads both options in the caller's option section; `count_help` says what T is there.
  static InnerSteps from_options(const char* count_help);
};

/// `given` if positive, else 1/L from problem.lower_curvature(x0, y0). A lower level without
/// curvature (L = 0, e.g. g = 0) has no such step: InputError naming `algorithm` and `option`.
double resolve_inner_step(double given, Problem& problem, Vec x0, Vec y0,
                          const std::string& algorithm, const std::string& option);

} // namespace bilevel
