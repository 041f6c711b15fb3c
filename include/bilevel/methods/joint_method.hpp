#pragma once
// Base of the methods that move x and y together as one variable z = (x, y) (PGD-QP, BOME): it
// holds y, the joint gradient of f, the curvature estimate of g at the start, and reports, in
// report() (outside the timed step), two quantities a reader must not confuse:
//   aid_formula_norm = ||grad_x f - grad^2_xy g [grad^2_yy g]^{-1} grad_y f||  at the current
//                      (x, y_k): the metric the perturbed-gradient-descent paper plots (eq. 1);
//   hypergrad_norm   = the same formula at y*(x), solved tightly by Newton (SNESVI without
//                      bounds): the true ||grad Phi(x)||.
// Only when g(x, .) is strongly convex (the curvature estimate's mu > 0 at the start) are these
// hypergradients; otherwise, or if a solve fails, they are left for the driver to fill with NaN.
// -alg_true_hypergrad false skips both: on ill-conditioned instances (hyperclean, lambda = 1e-3)
// the solves take hundreds of Hessian products, more than the steps.
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/hessian_solver.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <memory>

namespace bilevel {

class JointMethod : public Algorithm {
public:
  /// What report() computes: -alg_true_hypergrad and the options of its solves (-alg_ksp_*,
  /// -alg_true_snesvi_*), declared here and read by those solvers when setup() builds them.
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
  /// The hypergradient formula at (x, y) with the Krylov solve warm-started from v; records
  /// `<prefix>_converged/_iterations` and returns its norm (NaN if the solve failed).
  double hypergradient_norm(Vec x, Vec y, Vec v, const std::string& prefix, Record& record);

  std::unique_ptr<HessianSolver> solver_;
  std::unique_ptr<SnesViSolver> lower_solver_; ///< y*(x) for the true hypergradient
  OwnedVec v_, v_star_, y_star_, report_grad_f_, hypergrad_;
};

} // namespace bilevel
