#pragma once
// The lower-level Hessian solve grad^2_yy g(x, y) v = rhs, matrix-free: an OperatorSolver (CG,
// no preconditioner by default; -alg_ksp_type, -alg_pc_type, -alg_ksp_rtol, ...) whose product
// is the problem's lower_hess_yy. AID's implicit differentiation and the reported true
// hypergradient of the joint methods (docs/algorithms.md §4.4) share this one component.
#include "bilevel/core/operator_solver.hpp"

namespace bilevel {

class Problem;

class HessianSolver {
public:
  using Outcome = OperatorSolver::Outcome;

  /// Operators laid out like `y_model`; options read with the prefix "alg_".
  HessianSolver(Problem& problem, Vec y_model);

  /// Solves grad^2_yy g(x, y) v = rhs; v's value on entry is the initial guess (warm start).
  Outcome solve(Vec x, Vec y, Vec rhs, Vec v);

  /// Records the -alg_ksp_* options for -help.
  static void declare_options();

private:
  Problem& problem_;
  OperatorSolver solver_;
};

} // namespace bilevel
