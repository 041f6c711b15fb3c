#include "bilevel/methods/itd_vi.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/problem.hpp"

#include <cmath>
#include <utility>

namespace bilevel {

ItdVi::Config ItdVi::Config::from_options() {
  OptionSection section("algorithm itd_vi");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner_steps = static_cast<int>(options::get_int("-alg_inner_iters", 20, 1, 1000000,
                                                    "natural-map steps T per outer iteration"));
  c.b = options::get_real(
      "-alg_b", 0.0, 0.0, 1e300,
      "natural-map parameter b (step 1/b); 0 = L for an objective, L^2/mu for a VI "
      "(Lemma 12)");
  const std::string mode =
      options::get_choice("-alg_itd_mode", "auto", {"forward", "reverse", "auto"},
                          "implicit-gradient mode (auto: reverse when nx > "
                          "-alg_itd_forward_max_nx)");
  c.mode = mode == "forward" ? Mode::forward : mode == "reverse" ? Mode::reverse : Mode::automatic;
  c.forward_max_nx = options::get_int("-alg_itd_forward_max_nx", 32, 0, PETSC_MAX_INT,
                                      "largest nx for which auto mode runs forward");
  c.warm_start = options::get_bool("-alg_warm_start", true,
                                   "start the inner loop from the last lower iterate");
  c.check_exact = HypergradientCheck::requested();
  return c;
}

ItdVi::ItdVi(Config config)
    : HypergradientMethod(config.outer, config.check_exact), config_(config) {}

void ItdVi::setup(Problem& problem, Vec x0) {
  HypergradientMethod::setup(problem, x0);
  // q: the contraction factor the natural map is guaranteed (>= 1 when a given b breaks the
  // condition; the run goes on, the condition is sufficient, not necessary).
  const NaturalMapParameter parameter =
      resolve_natural_map_parameter(config_.b, problem, x0, y_, "itd_vi");
  const double b = parameter.b;
  q_ = parameter.q;
  map_ = std::make_unique<NaturalMap>(problem, y_, b);
  inner_ = std::make_unique<NaturalMapIteration>(*map_, y_);
  reverse_ = config_.mode == Mode::reverse ||
             (config_.mode == Mode::automatic && problem.nx() > config_.forward_max_nx);
  y_start_ = copy_of(y_);
  w_ = problem.create_y();
  w_next_ = problem.create_y();
  gy_ = problem.create_y();
  gx_ = duplicate(x0);
  gx_step_ = duplicate(x0);
  if (!reverse_) {
    unit_x_ = duplicate(x0);
    column_ = problem.create_y();
    jacobian_.clear();
    for (PetscInt j = 0; j < problem.nx(); ++j)
      jacobian_.push_back(problem.create_y());
  }
}

void ItdVi::record_inner(const NaturalMapIteration::Outcome& outcome, Record& record) const {
  record.set("inner_contraction", outcome.contraction);
  record.set("inner_contraction_bound", q_);
}

void ItdVi::hypergradient(Vec x, Vec grad, Record& record) {
  if (!config_.warm_start)
    BB_PETSC(VecCopy(y_start_, y_));
  if (reverse_)
    reverse_sweep(x, grad, record);
  else
    forward_sweep(x, grad, record);
}

void ItdVi::reverse_sweep(Vec x, Vec grad, Record& record) {
  record_inner(inner_->run(x, y_, config_.inner_steps, &history_), record);
  // w = grad_y f(x, y_T); for t = T-1..0: gx += grad_x z_b(y_t)' w, w <- grad_y z_b(y_t)' w.
  problem().upper_gradient(x, y_, gx_, w_);
  for (int t = config_.inner_steps - 1; t >= 0; --t) {
    Vec yt = history_.y[static_cast<std::size_t>(t)], ut = history_.u[static_cast<std::size_t>(t)];
    map_->jac_x_transpose(x, yt, ut, w_, gx_step_);
    BB_PETSC(VecAXPY(gx_, 1.0, gx_step_));
    map_->jac_y_transpose(x, yt, ut, w_, w_next_);
    std::swap(w_, w_next_);
  }
  BB_PETSC(VecCopy(gx_, grad));
}

void ItdVi::forward_sweep(Vec x, Vec grad, Record& record) {
  // J_0 = 0; after step t: J_{t+1} = grad_y z_b(y_t) J_t + grad_x z_b(y_t), column by column
  // (column j from the unit vector e_j of x-space). Runs in the inner loop's hook, so only the
  // natural-map steps count as BBInnerSolve time.
  for (auto& column : jacobian_)
    BB_PETSC(VecSet(column, 0.0));
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(unit_x_, &begin, &end));
  auto update = [&](Vec yt, Vec ut) {
    for (PetscInt j = 0; j < static_cast<PetscInt>(jacobian_.size()); ++j) {
      Vec column = jacobian_[static_cast<std::size_t>(j)];
      BB_PETSC(VecSet(unit_x_, 0.0));
      if (j >= begin && j < end)
        BB_PETSC(VecSetValue(unit_x_, j, 1.0, INSERT_VALUES));
      BB_PETSC(VecAssemblyBegin(unit_x_));
      BB_PETSC(VecAssemblyEnd(unit_x_));
      map_->jac_y(x, yt, ut, column, column_);
      map_->jac_x(x, yt, ut, unit_x_, column);
      BB_PETSC(VecAXPY(column, 1.0, column_));
    }
  };
  record_inner(inner_->run(x, y_, config_.inner_steps, nullptr, update), record);
  // grad = grad_x f(x, y_T) + J_T' grad_y f(x, y_T): one multi-dot gives every component.
  problem().upper_gradient(x, y_, gx_, gy_);
  std::vector<Vec> columns;
  for (auto& column : jacobian_)
    columns.push_back(column);
  std::vector<PetscScalar> dots(columns.size());
  BB_PETSC(VecMDot(gy_, static_cast<PetscInt>(columns.size()), columns.data(), dots.data()));
  BB_PETSC(VecCopy(gx_, grad));
  PetscScalar* g = nullptr;
  BB_PETSC(VecGetArray(grad, &g));
  for (PetscInt j = begin; j < end; ++j)
    g[j - begin] += dots[static_cast<std::size_t>(j)];
  BB_PETSC(VecRestoreArray(grad, &g));
}

void ItdVi::trial_lower_solution(Vec x, Vec y_trial) {
  BB_PETSC(VecCopy(config_.warm_start ? y_.get() : y_start_.get(), y_trial));
  (void)inner_->run(x, y_trial, config_.inner_steps);
}

} // namespace bilevel
