#include "bilevel/methods/kkt_vi.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

namespace {
constexpr double kKspRtol = 1e-12;
const char* const kPrefix = "alg_";
const char* const kSnesViPrefix = "alg_snesvi_";
} // namespace

KktVi::Config KktVi::Config::from_options() {
  OptionSection section("algorithm kkt_vi");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner_rtol = options::get_real("-alg_inner_rtol", 1e-13, 0.0, 1.0,
                                   "stop the lower solve when ||y+ - y|| <= rtol (1 + ||y||)");
  c.inner_max_steps = static_cast<int>(options::get_int(
      "-alg_inner_max_iters", 1000000, 1, 1000000000, "natural-map step limit of the lower solve"));
  c.b = options::get_real("-alg_b", 0.0, 0.0, 1e300,
                          "natural-map parameter b; 0 = L for an objective, L^2/mu for a VI");
  c.snesvi = options::get_choice("-alg_inner_solver", "natural_map", {"natural_map", "snesvi"},
                                 "lower solve: natural-map steps or PETSc SNESVI "
                                 "(vinewtonrsls)") == "snesvi";
  c.inner_gap_tol = options::get_real("-alg_inner_gap_tol", 1e-12, 0.0, 1e300,
                                      "snesvi: stop when the D-gap is at most this");
  c.check_exact = options::get_bool("-alg_check_exact", false,
                                    "trace hypergrad_error against the problem's closed form");
  // Read by the adjoint's KSP and SNESVI when they are built at setup.
  OperatorSolver::declare_options(kPrefix, KSPGMRES, kKspRtol);
  SnesViSolver::declare_options(kSnesViPrefix);
  return c;
}

KktVi::KktVi(Config config) : HypergradientMethod(config.outer), config_(config) {}

void KktVi::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  const double b = resolve_natural_map_parameter(config_.b, problem, x0, y_, "kkt_vi").b;
  map_ = std::make_unique<NaturalMap>(problem, y_, b);
  inner_ = std::make_unique<NaturalMapIteration>(*map_, y_);
  solver_ = std::make_unique<OperatorSolver>(problem.comm(), y_, kPrefix, KSPGMRES, kKspRtol);
  if (config_.snesvi)
    snesvi_ = std::make_unique<SnesViSolver>(problem, y_, kSnesViPrefix);
  if (config_.check_exact)
    check_.emplace(problem, x0, name());
  u_ = problem.create_y();
  y_next_ = problem.create_y();
  lambda_ = problem.create_y();
  BB_PETSC(VecSet(lambda_, 0.0));
  rhs_ = problem.create_y();
  work_ = problem.create_y();
  work2_ = problem.create_y();
  gx_ = duplicate(x0);
}

void KktVi::step(Vec x, Record& record) {
  if (check_)
    check_->remember(x);
  HypergradientMethod::step(x, record);
}

void KktVi::report(Vec, Record& record) {
  if (check_)
    check_->report(grad_, record);
}

void KktVi::free_part(Vec v, Vec out) const {
  if (const ConstraintSet* set = problem().lower_set())
    set->project_jacobian(u_, v, out);
  else
    BB_PETSC(VecCopy(v, out));
}

void KktVi::solve_lower(Vec x, Vec y, Record* record) {
  if (snesvi_) {
    SnesViSolver::Outcome inner{};
    {
      LogScope scope(log_events().inner_solve); // the natural-map loop times its own steps
      inner = snesvi_->solve(x, y, config_.inner_gap_tol);
    }
    if (record) {
      record->solve("inner", inner.converged, static_cast<double>(inner.newton_steps));
      record->set("inner_linear_iterations", static_cast<double>(inner.linear_iterations));
    }
    return;
  }
  const auto inner = inner_->run_until(x, y, config_.inner_rtol, config_.inner_max_steps);
  if (record) {
    record->solve("inner", inner.converged, inner.steps);
    record->set("inner_change", inner.last_change);
  }
}

void KktVi::hypergradient(Vec x, Vec grad, Record& record) {
  solve_lower(x, y_, &record);
  map_->step(x, y_, u_, y_next_); // u* = y* - F(y*, x)/b fixes P_F
  problem().upper_gradient(x, y_, gx_, work_);
  free_part(work_, rhs_);
  const OperatorSolver::Apply apply = [&](Vec v, Vec out) {
    free_part(v, work_);                                  // P_F v
    problem().vi_jac_y_transpose(x, y_, work_, work2_);   // grad_y F' P_F v
    free_part(work2_, out);                               // P_F grad_y F' P_F v
    BB_PETSC(VecAXPBYPCZ(out, 1.0, -1.0, 1.0, v, work_)); // + (I - P_F) v
  };
  OperatorSolver::Outcome solve{};
  {
    LogScope scope(log_events().linear_solve);
    solve = solver_->solve(apply, rhs_, lambda_);
  }
  record.solve("ksp", solve.converged, static_cast<double>(solve.iterations));
  problem().vi_jac_x_transpose(x, y_, lambda_, grad);
  BB_PETSC(VecAYPX(grad, -1.0, gx_)); // grad = grad_x f - grad_x F' lambda
}

void KktVi::save_state(hid_t group) const {
  HypergradientMethod::save_state(group);
  h5::write_vec(group, "lambda", lambda_);
}

void KktVi::load_state(hid_t group) {
  HypergradientMethod::load_state(group);
  if (h5::exists(group, "lambda")) // files from before it was saved have none
    h5::read_vec(group, "lambda", lambda_);
}

void KktVi::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(y_, y_trial));
  solve_lower(x, y_trial, nullptr);
}

} // namespace bilevel
