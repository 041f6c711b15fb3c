#pragma once
// Base of the methods whose outer iteration is "estimate the hypergradient, take a projected
// step": AID, ITD, the exact oracle, and later ITD-VI and the KKT baselines. A subclass supplies
// the estimate and, for line searches, its estimate of Phi at a trial point.
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/solvers/hypergradient_check.hpp"
#include "bilevel/solvers/outer_step.hpp"

#include <memory>
#include <optional>

namespace bilevel {

class HypergradientMethod : public Algorithm {
public:
  void setup(Problem& problem, Vec x0) override;
  void step(Vec x, Record& record) override;
  /// `hypergrad_error` of the last step under -alg_check_exact.
  void report(Vec x, Record& record) override;
  Vec lower_iterate() const override { return y_; }
  /// The lower iterate and the outer step's state.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  /// `check_exact` (-alg_check_exact, HypergradientCheck::requested): trace each step's error
  /// against the closed form, from report().
  explicit HypergradientMethod(OuterStepConfig outer, bool check_exact = false);

  /// Estimate of Phi(x) used by backtracking; by default f(x, y) at the current lower iterate
  /// after the subclass's inner solve at x (see trial_lower_solution).
  virtual double hyperobjective_estimate(Vec x);
  /// Puts into `y_trial` the lower iterate the method would use at x (default: a copy of y).
  virtual void trial_lower_solution(Vec x, Vec y_trial);

  Problem& problem() const { return *problem_; }

  Problem* problem_ = nullptr;
  OwnedVec y_;
  OwnedVec grad_;
  OwnedVec y_trial_;

private:
  OuterStepConfig step_config_;
  std::unique_ptr<OuterStep> outer_;
  bool check_exact_;
  std::optional<HypergradientCheck> check_;
};

} // namespace bilevel
