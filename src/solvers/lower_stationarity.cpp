#include "bilevel/solvers/lower_stationarity.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/joint_vector.hpp"

namespace bilevel {

LowerStationarity::LowerStationarity(Vec y_model) : grad_y_g_(duplicate(y_model)) {}

double LowerStationarity::evaluate(Problem& problem, Vec x, Vec y, Vec grad_h) {
  problem.lower_gradient(x, y, nullptr, grad_y_g_);
  PetscReal norm = 0;
  BB_PETSC(VecNorm(grad_y_g_, NORM_2, &norm));
  if (grad_h) {
    problem.lower_hess_xy(x, y, grad_y_g_, x_part(grad_h));
    problem.lower_hess_yy(x, y, grad_y_g_, y_part(grad_h));
    BB_PETSC(VecScale(grad_h, 2.0));
  }
  return norm * norm;
}

} // namespace bilevel
