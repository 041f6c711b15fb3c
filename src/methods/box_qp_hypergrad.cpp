#include "bilevel/methods/box_qp_hypergrad.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

namespace {
constexpr double kDefaultOuterStep = 1.0;
const char* const kPrefix = "alg_";
} // namespace

BoxQpHypergrad::Config BoxQpHypergrad::Config::from_options() {
  OptionSection section("algorithm box_qp_hypergrad");
  return {OuterStepConfig::from_options(kDefaultOuterStep),
          BoxQpSolverConfig::from_options(kPrefix), BoxQpOracleConfig::from_options(kPrefix)};
}

BoxQpHypergrad::BoxQpHypergrad(Config config)
    : HypergradientMethod(config.outer), config_(std::move(config)) {}

void BoxQpHypergrad::setup(Problem& problem, Vec x0) {
  box_problem_ = &require<BoxQpLowerLevel>(problem);
  HypergradientMethod::setup(problem, x0);
  lower_solver_ = make_box_qp_solver(config_.lower, problem.comm(), y_, kPrefix);
  oracle_ = make_box_qp_oracle(config_.oracle, y_, kPrefix);
  gradient_ = problem.create_y();
  gy_ = problem.create_y();
  w_ = problem.create_y();
  BB_PETSC(VecSet(w_, 0.0));
  gx_ = duplicate(x0);
  // Crossed bounds are a bad instance: refused here, before the run creates its file.
  const BoxQp qp = box_problem_->lower_box_qp(x0);
  if (crossed_bounds(qp) > 0)
    throw InputError("problem " + problem.name() + ": the lower-level bounds cross (lower > " +
                     "upper at " + std::to_string(crossed_bounds(qp)) + " entries)");
}

void BoxQpHypergrad::save_state(hid_t group) const {
  HypergradientMethod::save_state(group);
  h5::write_vec(group, "w", w_);
  if (Vec kept = oracle_->kept_warm_start())
    h5::write_vec(group, "oracle_warm_start", kept);
}

void BoxQpHypergrad::load_state(hid_t group) {
  HypergradientMethod::load_state(group);
  h5::read_vec(group, "w", w_);
  if (Vec kept = oracle_->kept_warm_start())
    h5::read_vec(group, "oracle_warm_start", kept);
}

std::vector<Vec> BoxQpHypergrad::step_state() const {
  std::vector<Vec> state{y_, w_};
  if (Vec kept = oracle_->kept_warm_start())
    state.push_back(kept);
  return state;
}

BoxQpResult BoxQpHypergrad::lower_solution(const BoxQp& qp, Vec y) {
  LogScope scope(log_events().inner_solve);
  const BoxQpResult result = lower_solver_->solve(qp, y, gradient_);
  if (result.status == BoxQpStatus::kInfeasibleBounds)
    throw InputError("problem " + problem().name() + ": the lower-level bounds cross (lower > " +
                     "upper at " + std::to_string(crossed_bounds(qp)) + " entries)");
  return result;
}

void BoxQpHypergrad::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(y_, y_trial));
  lower_solution(box_problem_->lower_box_qp(x), y_trial);
}

void BoxQpHypergrad::hypergradient(Vec x, Vec grad, Record& record) {
  const BoxQp qp = box_problem_->lower_box_qp(x);
  const BoxQpResult lower = lower_solution(qp, y_);
  record.solve(lower_solver_->name(), lower.status == BoxQpStatus::kConverged,
               static_cast<double>(lower.iterations));
  {
    const OwnedIS free = free_rows(qp, y_, config_.oracle.active_tolerance);
    PetscInt n_free = 0;
    BB_PETSC(ISGetSize(free, &n_free));
    record.set("active_rows", static_cast<double>(problem().ny() - n_free));
  }
  problem().upper_gradient(x, y_, grad, gy_);
  BoxQpOracle::Outcome adjoint{};
  {
    LogScope scope(log_events().linear_solve);
    adjoint = oracle_->adjoint(qp, y_, gradient_, gy_, w_);
  }
  record.solve("adjoint_ksp", adjoint.converged, static_cast<double>(adjoint.iterations));
  problem().lower_hess_xy(x, y_, w_, gx_); // -(dq/dx)' w
  BB_PETSC(VecAXPY(grad, -1.0, gx_));
}

} // namespace bilevel
