#include "bilevel/solvers/true_hypergradient.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"

#include <cmath>
#include <limits>

namespace bilevel {

namespace {
const char* const kLowerPrefix = "alg_true_snesvi_";
/// The lower residual y*(x) is solved to: tight enough that its error in grad Phi is below what
/// the traces resolve, loose enough for Newton to reach it in double precision.
constexpr double kLowerTolerance = 1e-10;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

bool TrueHypergradient::requested() {
  const bool on = options::get_bool(
      "-alg_true_hypergrad", true,
      "report hypergrad_norm = ||grad Phi(x)|| from a tight solve (Newton for y*(x), then a "
      "Krylov solve) outside the timed step, where the problem has no closed form");
  HessianSolver::declare_options();
  SnesViSolver::declare_options(kLowerPrefix);
  return on;
}

TrueHypergradient::TrueHypergradient(Problem& problem, Vec x0, Vec y0)
    : problem_(problem), hessian_(problem, y0), lower_(problem, y0, kLowerPrefix),
      y_star_(duplicate(y0)), v_star_(duplicate(y0)), grad_f_x_(duplicate(x0)),
      grad_f_y_(duplicate(y0)), hypergrad_(duplicate(x0)), difference_(duplicate(y0)) {
  BB_PETSC(VecCopy(y0, y_star_));
  BB_PETSC(VecSet(v_star_, 0.0));
}

double TrueHypergradient::formula_norm(Vec x, Vec y, Vec v, const std::string& prefix,
                                       Record& record) {
  problem_.upper_gradient(x, y, grad_f_x_, grad_f_y_);
  // v = [grad^2_yy g]^{-1} grad_y f, warm-started from the previous report's (eq. 1b).
  const HessianSolver::Outcome solve = hessian_.solve(x, y, grad_f_y_, v);
  record.solve(prefix, solve.converged, static_cast<double>(solve.iterations));
  if (!solve.converged)
    return kNaN;
  problem_.lower_hess_xy(x, y, v, hypergrad_);
  BB_PETSC(VecAYPX(hypergrad_, -1.0, grad_f_x_)); // eq. (1a): grad_x f - grad^2_xy g v
  PetscReal value = 0;
  BB_PETSC(VecNorm(hypergrad_, NORM_2, &value));
  return value;
}

double TrueHypergradient::norm(Vec x, Record& record) {
  const SnesViSolver::Outcome lower = lower_.solve(x, y_star_, kLowerTolerance);
  lower_converged_ = lower.converged;
  record.solve("true_lower", lower.converged, static_cast<double>(lower.newton_steps));
  // Solved even when Newton failed: the trace's first row fixes the columns, so every row
  // records both solves.
  const double value = formula_norm(x, y_star_, v_star_, "true_ksp", record);
  return lower.converged ? value : kNaN;
}

double TrueHypergradient::lower_distance(Vec y) const {
  if (!lower_converged_)
    return kNaN;
  BB_PETSC(VecWAXPY(difference_, -1.0, y_star_, y));
  PetscReal value = 0;
  BB_PETSC(VecNorm(difference_, NORM_2, &value));
  return value;
}

void TrueHypergradient::save_state(hid_t group) const {
  h5::write_vec(group, "report_y_star", y_star_);
  h5::write_vec(group, "report_v_star", v_star_);
}

void TrueHypergradient::load_state(hid_t group) {
  if (!h5::exists(group, "report_y_star"))
    return;
  h5::read_vec(group, "report_y_star", y_star_);
  h5::read_vec(group, "report_v_star", v_star_);
}

} // namespace bilevel
