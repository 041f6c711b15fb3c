#pragma once
// The lower-level step every gradient-based method takes by default: a step given on the
// command line, or 1/L of grad_y g at the starting point when it is given as 0.
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class Problem;

/// `given` if positive, else 1/L from problem.lower_curvature(x0, y0). A lower level without
/// curvature (L = 0, e.g. g = 0) has no such step: InputError naming `algorithm` and `option`.
double resolve_inner_step(double given, Problem& problem, Vec x0, Vec y0,
                          const std::string& algorithm, const std::string& option);

} // namespace bilevel
