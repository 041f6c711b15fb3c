#include "bilevel/solvers/hessian_solver.hpp"

#include "bilevel/problems/problem.hpp"

namespace bilevel {

namespace {
constexpr const char* kPrefix = "alg_";
constexpr double kDefaultRtol = 1e-10;
} // namespace

void HessianSolver::declare_options() {
  OperatorSolver::declare_options(kPrefix, KSPCG, kDefaultRtol);
}

HessianSolver::HessianSolver(Problem& problem, Vec y_model)
    : problem_(problem), solver_(problem.comm(), y_model, kPrefix, KSPCG, kDefaultRtol) {}

HessianSolver::Outcome HessianSolver::solve(Vec x, Vec y, Vec rhs, Vec v) {
  return solver_.solve([&](Vec in, Vec out) { problem_.lower_hess_yy(x, y, in, out); }, rhs, v);
}

} // namespace bilevel
