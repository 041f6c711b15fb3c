#pragma once
// The reference inner solver of Kaushik & Jin (docs/algorithms.md §3.8): PETSc's semismooth Newton
// with reduced space active sets (SNESVINEWTONRSLS) on the same VI  <F(y, x), z - y> >= 0 on Y =
// {lower <= y <= upper}, for lower sets that are coordinate-wise bounds (Box, LowerBound,
// VectorBox) or none (infinite bounds: Newton's method).
// It stops when the problem's lower residual (the D-gap for VI problems) is at most a tolerance,
// the same criterion the natural-map loop is measured by, so the two can be timed to a common
// accuracy. The Jacobian grad_y F is the problem's assembled matrix when it is constant (then
// the reduced systems are preconditioned, BoomerAMG by default), else a MatShell over vi_jac_y
// whose reduced blocks are PETSc virtual submatrices (no preconditioner).
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class Problem;

class SnesViSolver {
public:
  struct Outcome {
    PetscInt newton_steps;
    PetscInt linear_iterations;
    bool converged;  ///< the residual reached the tolerance
    double residual; ///< the problem's lower residual at the returned y
  };

  /// Work vectors laid out like `y_model`; options under -<prefix>snes_*, -<prefix>ksp_*,
  /// -<prefix>pc_*. Throws InputError if the problem's lower set is not given by bounds (no set
  /// at all is the unconstrained case: Newton's method).
  SnesViSolver(Problem& problem, Vec y_model, const std::string& prefix);
  SnesViSolver(const SnesViSolver&) = delete; // PETSc callbacks hold `this`
  SnesViSolver& operator=(const SnesViSolver&) = delete;

  /// Solves the VI at x from y (in place) until lower_residual(x, y) <= tolerance or the
  /// Newton step limit.
  Outcome solve(Vec x, Vec y, double tolerance);

  /// Records the -<prefix>... options for -help.
  static void declare_options(const std::string& prefix);

private:
  static PetscErrorCode residual(SNES snes, Vec y, Vec out, void* self);
  static PetscErrorCode jacobian(SNES snes, Vec y, Mat amat, Mat pmat, void* self);
  static PetscErrorCode converged(SNES snes, PetscInt it, PetscReal xnorm, PetscReal step,
                                  PetscReal fnorm, SNESConvergedReason* reason, void* self);
  static PetscErrorCode shell_mult(Mat shell, Vec in, Vec out);
  static PetscErrorCode shell_submatrix(Mat shell, IS rows, IS cols, MatReuse reuse, Mat* out);

  Problem& problem_;
  Vec x_ = nullptr; ///< borrowed for the duration of solve()
  double tolerance_ = 0.0;
  double last_residual_ = 0.0;
  OwnedVec y_linear_; ///< the point of the current linearisation (shell Jacobian)
  OwnedVec lower_, upper_, residual_vec_;
  OwnedMat shell_;
  OwnedSNES snes_;
};

} // namespace bilevel
