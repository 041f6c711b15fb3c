#include "bilevel/problems/vi_problem.hpp"

namespace bilevel {

double ViProblem::lower_residual(Vec x, Vec y) {
  OwnedVec F = duplicate(y), work = duplicate(y);
  vi_map(x, y, F);
  return gap_.evaluate(y, F, lower_set(), work);
}

} // namespace bilevel
