#include "bilevel/methods/hypergradient_method.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

HypergradientMethod::HypergradientMethod(OuterStepConfig outer, bool check_exact)
    : step_config_(outer), check_exact_(check_exact) {}

void HypergradientMethod::setup(Problem& problem, Vec x0) {
  problem_ = &problem;
  y_ = problem.create_y();
  y_trial_ = problem.create_y();
  grad_ = duplicate(x0);
  problem.initial_y(x0, y_);
  outer_ = std::make_unique<OuterStep>(step_config_, x0);
  if (check_exact_)
    check_.emplace(problem, x0, name());
}

void HypergradientMethod::step(Vec x, Record& record) {
  if (check_)
    check_->remember(x); // the driver reports after x has moved
  {
    LogScope scope(log_events().hypergradient);
    hypergradient(x, grad_, record);
  }
  PetscReal norm = 0;
  BB_PETSC(VecNorm(grad_, NORM_2, &norm));
  record.set("hypergrad_norm", norm);
  outer_->apply(
      x, grad_, problem().upper_set(), [this](Vec trial) { return hyperobjective_estimate(trial); },
      record);
}

void HypergradientMethod::report(Vec, Record& record) {
  if (check_)
    check_->report(grad_, record);
}

void HypergradientMethod::save_state(hid_t group) const {
  Algorithm::save_state(group);
  h5::write_attribute(group, "outer_step", outer_->current_step());
}

void HypergradientMethod::load_state(hid_t group) {
  Algorithm::load_state(group);
  if (H5Aexists(group, "outer_step") > 0) // files from before it was saved have none
    outer_->resume_from(h5::read_real_attribute(group, "outer_step"));
}

double HypergradientMethod::hyperobjective_estimate(Vec x) {
  trial_lower_solution(x, y_trial_);
  return problem().upper_value(x, y_trial_);
}

void HypergradientMethod::trial_lower_solution(Vec, Vec y_trial) {
  BB_PETSC(VecCopy(y_, y_trial));
}

} // namespace bilevel
