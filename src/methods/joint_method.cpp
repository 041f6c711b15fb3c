#include "bilevel/methods/joint_method.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/solvers/joint_vector.hpp"

#include <cmath>
#include <limits>

namespace bilevel {

namespace {
const char* const kLowerPrefix = "alg_true_snesvi_";
constexpr double kLowerTolerance = 1e-10;
} // namespace

JointMethod::Reporting JointMethod::Reporting::from_options() {
  Reporting r{};
  r.true_hypergradient = options::get_bool(
      "-alg_true_hypergrad", true,
      "report hypergrad_norm = ||grad Phi(x)|| (Newton for y*(x), then a Krylov solve) and "
      "aid_formula_norm at y_k, outside the timed step, when g is strongly convex");
  HessianSolver::declare_options();
  SnesViSolver::declare_options(kLowerPrefix);
  return r;
}

void JointMethod::setup(Problem& problem, Vec x0) {
  if (problem.lower_set() || problem.upper_set())
    throw InputError("algorithm " + name() + " moves (x, y) without projection; problem '" +
                     problem.name() + "' has a constraint set");
  problem_ = &problem;
  y_ = problem.create_y();
  problem.initial_y(x0, y_);
  grad_f_ = create_joint(x0, y_);
  curvature_ = problem.lower_curvature(x0, y_, CurvatureNeed::both);
  if (curvature_.mu > 0 && reporting_.true_hypergradient) {
    solver_ = std::make_unique<HessianSolver>(problem, y_);
    v_ = problem.create_y();
    BB_PETSC(VecSet(v_, 0.0));
    v_star_ = problem.create_y();
    BB_PETSC(VecSet(v_star_, 0.0));
    y_star_ = problem.create_y();
    BB_PETSC(VecCopy(y_, y_star_));
    lower_solver_ = std::make_unique<SnesViSolver>(problem, y_, kLowerPrefix);
    report_grad_f_ = create_joint(x0, y_);
    hypergrad_ = duplicate(x0);
  }
}

void JointMethod::upper_gradient(Vec x) {
  problem().upper_gradient(x, y_, x_part(grad_f_), y_part(grad_f_));
}

void JointMethod::move(Vec x, double step, Vec direction) {
  BB_PETSC(VecAXPY(x, step, x_part(direction)));
  BB_PETSC(VecAXPY(y_, step, y_part(direction)));
}

double JointMethod::hypergradient_norm(Vec x, Vec y, Vec v, const std::string& prefix,
                                       Record& record) {
  Vec gx = x_part(report_grad_f_), gy = y_part(report_grad_f_);
  problem().upper_gradient(x, y, gx, gy);
  // v = [grad^2_yy g]^{-1} grad_y f, warm-started from the previous report (eq. 1b).
  const HessianSolver::Outcome solve = solver_->solve(x, y, gy, v);
  record.solve(prefix, solve.converged, static_cast<double>(solve.iterations));
  if (!solve.converged)
    return std::numeric_limits<double>::quiet_NaN();
  problem().lower_hess_xy(x, y, v, hypergrad_);
  BB_PETSC(VecAYPX(hypergrad_, -1.0, gx)); // eq. (1a): grad_x f - grad^2_xy g v
  PetscReal norm = 0;
  BB_PETSC(VecNorm(hypergrad_, NORM_2, &norm));
  return norm;
}

void JointMethod::report(Vec x, Record& record) {
  if (!solver_)
    return;
  record.set("aid_formula_norm", hypergradient_norm(x, y_, v_, "hypergrad_ksp", record));
  // y*(x) warm-started from the previous report's.
  const SnesViSolver::Outcome lower = lower_solver_->solve(x, y_star_, kLowerTolerance);
  record.solve("true_lower", lower.converged, static_cast<double>(lower.newton_steps));
  const double norm = hypergradient_norm(x, y_star_, v_star_, "true_ksp", record);
  if (lower.converged && std::isfinite(norm))
    record.set("hypergrad_norm", norm);
}

void JointMethod::save_state(hid_t group) const {
  Algorithm::save_state(group);
  if (!solver_)
    return;
  h5::write_vec(group, "report_v", v_);
  h5::write_vec(group, "report_y_star", y_star_);
  h5::write_vec(group, "report_v_star", v_star_);
}

void JointMethod::load_state(hid_t group) {
  Algorithm::load_state(group);
  if (!solver_ || !h5::exists(group, "report_v")) // files from before they were saved
    return;
  h5::read_vec(group, "report_v", v_);
  h5::read_vec(group, "report_y_star", y_star_);
  h5::read_vec(group, "report_v_star", v_star_);
}

} // namespace bilevel
