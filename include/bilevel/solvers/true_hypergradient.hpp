#pragma once
// The reporting solve of the true ||grad Phi(x)|| where a problem has no closed form: y*(x) by
// Newton (SnesViSolver, without bounds: a lower level that is unconstrained or bound-constrained)
// to a lower residual of 1e-10, then the adjoint v* = [grad^2_yy g]^{-1} grad_y f by the shared
// HessianSolver (-alg_ksp_*, CG to rtol 1e-10 by default), and
//   grad Phi(x) = grad_x f(x, y*) - grad^2_xy g(x, y*) v*        (docs/algorithms.md, eq. 1).
// Both solves warm-start from the previous call's solutions, which are restart state (a restart
// without them reports other numbers). Each records its outcome (`true_lower_*`, `true_ksp_*`),
// so a failed solve flags its row and the run's validity instead of passing as a number.
// Reporting only: called from Algorithm::report, outside the timed step. -alg_true_hypergrad
// false switches it off: on ill-conditioned instances (hyperclean, lambda = 1e-3) the solves take
// hundreds of Hessian products per reported row, more than the steps themselves.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/solvers/hessian_solver.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <hdf5.h>

#include <string>

namespace bilevel {

class Problem;

class TrueHypergradient {
public:
  /// Reads -alg_true_hypergrad (in the caller's option section) and declares the options of
  /// the solves, which the solvers read when they are built.
  static bool requested();

  /// Work vectors laid out like x0 and y0; y*'s first warm start is y0, v*'s is zero.
  TrueHypergradient(Problem& problem, Vec x0, Vec y0);

  /// y*(x), then v*; returns ||grad Phi(x)||, NaN if either solve missed its tolerance.
  double norm(Vec x, Record& record);
  /// y*(x) as of the last norm() (its last Newton iterate if that solve failed).
  Vec lower_solution() const { return y_star_; }
  /// ||y - y*(x)|| after norm(x); NaN if its Newton solve failed.
  double lower_distance(Vec y) const;

  /// The hypergradient formula at any (x, y), with the Hessian solve warm-started from v and
  /// recorded as `<prefix>_*`; its norm, NaN if the solve failed. At y = y*(x) it is
  /// ||grad Phi(x)||; at a method's own y_k it is what some papers plot instead.
  double formula_norm(Vec x, Vec y, Vec v, const std::string& prefix, Record& record);

  /// The warm starts y* and v* under `group` (report_y_star, report_v_star).
  void save_state(hid_t group) const;
  /// Reads them back if present (files written before they were saved keep the cold start).
  void load_state(hid_t group);

private:
  Problem& problem_;
  HessianSolver hessian_;
  SnesViSolver lower_;
  bool lower_converged_ = false;
  OwnedVec y_star_, v_star_, grad_f_x_, grad_f_y_, hypergrad_, difference_;
};

} // namespace bilevel
