#include "bilevel/solvers/single_constraint_qp.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>

namespace bilevel {

double qp_multiplier(double b, double grad_c_dot_grad_f, double grad_c_sq) {
  if (grad_c_sq <= 0.0)
    return 0.0;
  return std::max(b - grad_c_dot_grad_f, 0.0) / grad_c_sq;
}

void qp_direction(Vec grad_f, Vec grad_c, double lambda, Vec direction) {
  BB_PETSC(VecAXPBYPCZ(direction, -1.0, -lambda, 0.0, grad_f, grad_c));
}

} // namespace bilevel
