#pragma once
// Base of the methods that move x and y together as one variable z = (x, y) (PGD-QP, BOME): it
// holds y, the joint gradient of f, the curvature estimate of g at the start, and reports the
// true hypergradient norm
//   ||grad_x f - grad^2_xy g [grad^2_yy g]^{-1} grad_y f||   at the current (x, y)
// (seed 003 eq. 1, the metric of its Appendix C) with one Krylov solve, in report(): outside the
// timed step. Only when g(x, .) is strongly convex (the curvature estimate's mu > 0 at the start)
// is that quantity a hypergradient; otherwise, or if the solve fails, hypergrad_norm is left for
// the driver to fill with NaN. -alg_true_hypergrad false skips it: on ill-conditioned instances
// (hyperclean, lambda = 1e-3) the solve takes hundreds of Hessian products, more than the steps.
#include "bilevel/algorithms/algorithm.hpp"
#include "bilevel/algorithms/hessian_solver.hpp"
#include "bilevel/problems/problem.hpp"

#include <memory>

namespace bilevel {

class JointMethod : public Algorithm {
public:
  /// Rejects constrained problems: the joint step moves x and y without projecting.
  void setup(Problem& problem, Vec x0) override;
  Vec lower_iterate() const override { return y_; }
  void report(Vec x, Record& record) override;

  /// The reporting switch (-alg_true_hypergrad) and the reporting solve's options (-alg_ksp_*).
  static void declare_options();

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
  Curvature curvature_{};
  std::unique_ptr<HessianSolver> solver_;
  OwnedVec v_, report_grad_f_, hypergrad_;
};

} // namespace bilevel
