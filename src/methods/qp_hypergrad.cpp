#include "bilevel/methods/qp_hypergrad.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/qp/affine_gradient_descent.hpp"

namespace bilevel {

QpHypergrad::Config QpHypergrad::Config::from_options() {
  OptionSection section("algorithm qp_hypergrad");
  return {OuterStepConfig::from_options(), InteriorPointQp::Config::from_options("alg_"),
          QpLayerOracleConfig::from_options("alg_")};
}

QpHypergrad::QpHypergrad(Config config)
    : HypergradientMethod(config.outer), config_(std::move(config)), ipm_(config_.ipm),
      oracle_(make_qp_layer_oracle(config_.oracle)) {}

void QpHypergrad::setup(Problem& problem, Vec x0) {
  qp_problem_ = &require<QpLowerLevel>(problem);
  HypergradientMethod::setup(problem, x0);
  gy_ = problem.create_y();
  y_delta_ = problem.create_y();
  gf_ = problem.create_y();
  gx_ = duplicate(x0);
}

QpSolution QpHypergrad::lower_solution(const DenseQp& qp, Vec y) {
  LogScope scope(log_events().inner_solve);
  QpSolution solution = ipm_.solve(qp);
  if (solution.status == QpStatus::kInfeasible)
    throw InputError("problem " + problem().name() + ": the lower-level constraints are empty");
  scatter_owned(solution.y, y);
  return solution;
}

void QpHypergrad::trial_lower_solution(Vec x, Vec y_trial) {
  lower_solution(qp_problem_->lower_qp(gather_to_all(x)), y_trial);
}

void QpHypergrad::hypergradient(Vec x, Vec grad, Record& record) {
  const DenseQp qp = qp_problem_->lower_qp(gather_to_all(x));
  const QpSolution solution = lower_solution(qp, y_);
  record.solve("qp", solution.status == QpStatus::kSolved, solution.iterations);
  record.set("active_rows",
             static_cast<double>(active_set(qp, solution, config_.oracle.active_tolerance).size()));
  if (config_.oracle.oracle == "ffo") {
    ffo_hypergradient(x, qp, solution, grad, record);
    return;
  }
  problem().upper_gradient(x, y_, grad, gy_);
  const QpLayerGradient layer =
      oracle_->backward(qp, solution, gather_to_all(gy_), /*matrices=*/false);
  scatter_owned(layer.dq, gy_);
  problem().lower_hess_xy(x, y_, gy_, gx_); // (dq/dx)' dl/dq
  BB_PETSC(VecAXPY(grad, 1.0, gx_));
}

void QpHypergrad::ffo_hypergradient(Vec x, const DenseQp& qp, const QpSolution& solution, Vec grad,
                                    Record& record) {
  double delta = config_.oracle.delta;
  const auto active = active_set(qp, solution, config_.oracle.active_tolerance);
  Eigen::MatrixXd C(static_cast<Eigen::Index>(active.size()) + qp.A.rows(), qp.n());
  for (std::size_t r = 0; r < active.size(); ++r)
    C.row(static_cast<Eigen::Index>(r)) = qp.G.row(active[r]);
  C.bottomRows(qp.A.rows()) = qp.A;
  const AffineGradientDescent solver(
      C, {config_.oracle.ffo_tolerance, config_.oracle.ffo_max_iterations});
  // grad_y of g + delta f; the ghost term lambda_I'G_I y lies in the row space of C and is
  // projected away, so it is left out.
  auto gradient = [&](const Eigen::VectorXd& y) -> Eigen::VectorXd {
    scatter_owned(y, y_delta_);
    problem().lower_gradient(x, y_delta_, nullptr, gy_);
    problem().upper_gradient(x, y_delta_, nullptr, gf_);
    BB_PETSC(VecAXPY(gy_, delta, gf_));
    return gather_to_all(gy_);
  };
  const double first_step = 1.0 / qp.Q.cwiseAbs().rowwise().sum().maxCoeff();
  // y_0: the ghost problem at delta = 0 polished from y* by the same solver (see FfoOracle).
  delta = 0.0;
  const auto base = solver.minimise(gradient, solution.y, first_step);
  delta = config_.oracle.delta;
  const auto perturbed = solver.minimise(gradient, base.y, first_step);
  // A missed tolerance makes the estimate wrong by about the residual over delta.
  record.solve("ffo_inner", base.converged && perturbed.converged,
               base.iterations + perturbed.iterations, /*solves=*/2);
  // grad_x L_delta(y_delta) - grad_x L_0(y_0), over delta.
  scatter_owned(perturbed.y, y_delta_);
  problem().upper_gradient(x, y_delta_, grad, nullptr);
  problem().lower_gradient(x, y_delta_, gx_, nullptr);
  BB_PETSC(VecAXPY(grad, 1.0 / delta, gx_));
  scatter_owned(base.y, y_delta_);
  problem().lower_gradient(x, y_delta_, gx_, nullptr);
  BB_PETSC(VecAXPY(grad, -1.0 / delta, gx_));
}

} // namespace bilevel
