#include "bilevel/problems/vi_problem.hpp"

#include <stdexcept>

namespace bilevel {

Mat ViProblem::constant_jacobian_y() const {
  throw std::logic_error("problem '" + name() + "' does not declare a constant VI Jacobian");
}

double ViProblem::lower_residual(Vec x, Vec y) {
  OwnedVec F = duplicate(y), work = duplicate(y);
  vi_map(x, y, F);
  return gap_.evaluate(y, F, lower_set(), work);
}

} // namespace bilevel
