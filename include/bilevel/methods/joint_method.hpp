#pragma once
// Base of the methods that move x and y together as one variable z = (x, y) (PGD-QP, BOME): it
// holds y, the joint gradient of f, the curvature estimate of g at the start, and reports, in
// report() (outside the timed step), two quantities a reader must not confuse:
//   aid_formula_norm = ||grad_x f - grad^2_xy g [grad^2_yy g]^{-1} grad_y f||  at the current
//                      (x, y_k): the metric the perturbed-gradient-descent paper plots (eq. 1);
//   hypergrad_norm   = the same formula at y*(x): the true ||grad Phi(x)|| (TrueHypergradient).
// Only when g(x, .) is strongly convex (the curvature estimate's mu > 0 at the start) are these
// hypergradients; otherwise, or if a solve fails, they are left for the driver to fill with NaN.
// -alg_true_hypergrad false skips both (TrueHypergradient says when to).
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/true_hypergradient.hpp"

#include <memory>

namespace bilevel {

class JointMethod : public Algorithm {
public:
  /// What report() computes: -alg_true_hypergrad and the options of its solves
  /// (TrueHypergradient::requested).
  struct Reporting {
    bool true_hypergradient;
    static Reporting from_options();
  };
  explicit JointMethod(Reporting reporting) : reporting_(reporting) {}

  /// Rejects constrained problems: the joint step moves x and y without projecting.
  void setup(Problem& problem, Vec x0) override;
  Vec lower_iterate() const override { return y_; }
  void report(Vec x, Record& record) override;
  /// y and the reports' warm starts (v, y*, v*): a restart without them reports other numbers.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  Problem& problem() const { return *problem_; }
  /// grad g's curvature estimate at (x0, y0): L sets inner step sizes, mu > 0 means strongly
  /// convex.
  const Curvature& curvature() const { return curvature_; }
  /// grad f(x, y) into the joint vector grad_f_.
  void upper_gradient(Vec x);
  /// (x, y) <- (x, y) + step * direction, with `direction` a joint vector.
  void move(Vec x, double step, Vec direction);

  Problem* problem_ = nullptr;
  OwnedVec y_;
  OwnedVec grad_f_; ///< joint

private:
  Reporting reporting_;
  Curvature curvature_{};
  std::unique_ptr<TrueHypergradient> true_hypergradient_;
  OwnedVec v_; ///< aid_formula_norm's warm start
};

} // namespace bilevel
