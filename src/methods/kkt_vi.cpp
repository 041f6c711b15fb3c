#include "bilevel/methods/kkt_vi.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/vi_problem.hpp"
#include "bilevel/sets/constraint_set.hpp"

#include <cmath>

namespace bilevel {

namespace {
constexpr double kKspRtol = 1e-12;
/// Grid sequencing stops halving before the grid has fewer points per side than this.
constexpr PetscInt kCoarsestGrid = 32;
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
  c.grid_sequence = options::get_bool(
      "-alg_grid_sequence", true,
      "snesvi from the problem's initial y (a cold start): start from the solutions on coarser "
      "grids, on problems that have them");
  c.check_exact = HypergradientCheck::requested();
  c.matrix_free_adjoint =
      options::get_choice("-alg_adjoint", "auto", {"auto", "matrix_free"},
                          "adjoint solve: auto = multigrid-preconditioned Krylov on the free block "
                          "when Y is given by bounds and grad_y F is assembled, else matrix-free "
                          "GMRES; matrix_free = always the latter") == "matrix_free";
  c.check_adjoint = options::get_bool(
      "-alg_check_adjoint", false,
      "trace adjoint_residual and free_set_asymmetry of each adjoint solve (not timed)");
  // Read by the adjoint's KSP and SNESVI when they are built at setup.
  FreeSetSolver::declare_options(kPrefix, kKspRtol);
  SnesViSolver::declare_options(kSnesViPrefix);
  return c;
}

KktVi::KktVi(Config config)
    : HypergradientMethod(config.outer, config.check_exact), config_(config) {}

void KktVi::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  const double b = resolve_natural_map_parameter(config_.b, problem, x0, y_, "kkt_vi").b;
  map_ = std::make_unique<NaturalMap>(problem, y_, b);
  inner_ = std::make_unique<NaturalMapIteration>(*map_, y_);
  const Mat assembled = problem.structure().constant_vi_jacobian
                            ? require<ViProblem>(problem).constant_jacobian_y()
                            : nullptr;
  const ConstraintSet* set = problem.lower_set();
  work_ = problem.create_y();
  work2_ = problem.create_y();
  // DP_Y(u) is a 0/1 diagonal exactly when Y is given by coordinate-wise bounds.
  const bool diagonal_projection = !set || set->bounds(work_, work2_);
  if (assembled && diagonal_projection && !config_.matrix_free_adjoint)
    free_set_solver_ =
        std::make_unique<FreeSetSolver>(problem.comm(), assembled, kPrefix, kKspRtol);
  else
    solver_ = std::make_unique<OperatorSolver>(problem.comm(), y_, kPrefix, KSPGMRES, kKspRtol);
  if (config_.snesvi)
    snesvi_ = std::make_unique<SnesViSolver>(problem, y_, kSnesViPrefix);
  if (config_.snesvi && config_.grid_sequence)
    sequencing_.emplace(kSnesViPrefix, config_.inner_gap_tol, kCoarsestGrid);
  u_ = problem.create_y();
  y_next_ = problem.create_y();
  lambda_ = problem.create_y();
  BB_PETSC(VecSet(lambda_, 0.0));
  rhs_ = problem.create_y();
  mask_ = problem.create_y();
  gx_ = duplicate(x0);
  if (config_.check_adjoint)
    x_adjoint_ = duplicate(x0);
}

void KktVi::report(Vec x, Record& record) {
  HypergradientMethod::report(x, record);
  if (config_.check_adjoint)
    report_adjoint(record);
}

void KktVi::report_adjoint(Record& record) {
  // The residual of the system actually solved, measured with the full-size operator (so the
  // free-block path is checked by the matrix-free one), and the asymmetry
  // |<lambda, A r> - <A lambda, r>| / (||A lambda|| ||r||) of that operator, which is zero
  // exactly when the free block J_FF' is symmetric (CG's premise).
  OwnedVec a_lambda = duplicate(rhs_), a_rhs = duplicate(rhs_);
  apply_adjoint(x_adjoint_, lambda_, a_lambda);
  apply_adjoint(x_adjoint_, rhs_, a_rhs);
  PetscScalar lambda_a_rhs = 0, a_lambda_rhs = 0;
  BB_PETSC(VecDot(lambda_, a_rhs, &lambda_a_rhs));
  BB_PETSC(VecDot(a_lambda, rhs_, &a_lambda_rhs));
  PetscReal rhs_norm = 0, a_lambda_norm = 0, residual = 0;
  BB_PETSC(VecNorm(rhs_, NORM_2, &rhs_norm));
  BB_PETSC(VecNorm(a_lambda, NORM_2, &a_lambda_norm));
  BB_PETSC(VecAXPY(a_lambda, -1.0, rhs_));
  BB_PETSC(VecNorm(a_lambda, NORM_2, &residual));
  const double scale = a_lambda_norm * rhs_norm;
  record.set("adjoint_residual", rhs_norm > 0 ? residual / rhs_norm : residual);
  record.set("free_set_asymmetry", scale > 0 ? std::abs(lambda_a_rhs - a_lambda_rhs) / scale : 0.0);
}

void KktVi::free_part(Vec v, Vec out) const {
  if (const ConstraintSet* set = problem().lower_set())
    set->project_jacobian(u_, v, out);
  else
    BB_PETSC(VecCopy(v, out));
}

void KktVi::apply_adjoint(Vec x, Vec v, Vec out) {
  free_part(v, work_);                                  // P_F v
  problem().vi_jac_y_transpose(x, y_, work_, work2_);   // grad_y F' P_F v
  free_part(work2_, out);                               // P_F grad_y F' P_F v
  BB_PETSC(VecAXPBYPCZ(out, 1.0, -1.0, 1.0, v, work_)); // + (I - P_F) v
}

bool KktVi::is_cold_start(Vec x, Vec y) {
  // Decided from y itself rather than from a first-call flag, so that a restart from a state
  // saved before the first solve completed sequences exactly as the run made in one go did.
  problem().initial_y(x, work_);
  PetscBool equal = PETSC_FALSE;
  BB_PETSC(VecEqual(y, work_, &equal));
  return equal;
}

void KktVi::solve_lower(Vec x, Vec y, Record* record) {
  if (snesvi_) {
    SnesViSolver::Outcome inner{};
    GridSequencedStart::Outcome coarse{};
    {
      LogScope scope(log_events().inner_solve); // the natural-map loop times its own steps
      if (sequencing_ && is_cold_start(x, y))
        coarse = sequencing_->run(problem(), x, y);
      inner = snesvi_->solve(x, y, config_.inner_gap_tol);
    }
    if (record) {
      record->solve("inner", inner.converged, static_cast<double>(inner.newton_steps));
      record->set("inner_linear_iterations", static_cast<double>(inner.linear_iterations));
      if (sequencing_) {
        record->set("inner_coarse_iterations", static_cast<double>(coarse.newton_steps));
        record->set("inner_coarse_converged", coarse.converged ? 1.0 : 0.0);
      }
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
  KrylovOutcome solve{};
  {
    LogScope scope(log_events().linear_solve);
    if (free_set_solver_) {
      BB_PETSC(VecSet(work_, 1.0));
      free_part(work_, mask_);
      solve = free_set_solver_->solve(mask_, rhs_, lambda_);
    } else {
      const OperatorSolver::Apply apply = [&](Vec v, Vec out) { apply_adjoint(x, v, out); };
      solve = solver_->solve(apply, rhs_, lambda_);
    }
  }
  if (x_adjoint_)
    BB_PETSC(VecCopy(x, x_adjoint_));
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
