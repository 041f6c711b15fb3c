#pragma once
// The upper-level update shared by every hypergradient method: x <- P_X(x - beta * grad), with
// beta fixed or chosen by Armijo backtracking on the method's own estimate of Phi.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"

#include <functional>

namespace bilevel {

class ConstraintSet;

struct OuterStepConfig {
  double step = 0.1;         ///< beta, or the largest trial step when backtracking
  bool backtracking = false; ///< Armijo backtracking on the estimate of Phi
  double armijo = 1e-4;      ///< sufficient-decrease constant
  int max_backtracks = 30;

  /// beta's default for every method whose own scale does not call for another.
  static constexpr double kDefaultStep = 0.1;
  /// Reads -alg_step, -alg_line_search.
  static OuterStepConfig from_options(double default_step = kDefaultStep);
};

class OuterStep {
public:
  OuterStep(OuterStepConfig config, Vec x_model);

  /// Updates x in place. `phi` estimates the hyper-objective at a trial point (only called when
  /// backtracking); records `step_size` and, when backtracking, `backtracks`.
  void apply(Vec x, Vec grad, const ConstraintSet* set, const std::function<double(Vec)>& phi,
             Record& record);

  /// The step backtracking starts from (twice the last accepted one): state a restart needs.
  double current_step() const { return current_step_; }
  void resume_from(double current_step) { current_step_ = current_step; }

private:
  OuterStepConfig config_;
  double current_step_;
  OwnedVec trial_;
};

} // namespace bilevel
