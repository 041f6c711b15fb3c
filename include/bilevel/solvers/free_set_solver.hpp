#pragma once
// kkt_vi's adjoint system (P_F J' P_F + I - P_F) lambda = P_F r when Y is given by coordinate-wise
// bounds, so that P_F = diag(m) with m the 0/1 mask of the free coordinates, and the Jacobian
// J = grad_y F is an assembled matrix. The system then splits into lambda_A = 0 on the active
// coordinates and J_FF' lambda_F = r_F on the free ones; the free block is extracted
// (MatCreateSubMatrix on the free index set) and solved by a Krylov method with an algebraic
// multigrid preconditioner (BoomerAMG by default). Unlike GMRES on the full-size operator
// without a preconditioner, whose iterations grow with the grid (1000, unconverged, at 1024^2 on
// obstacle_control), the multigrid-preconditioned iterations stay nearly constant.
#include "bilevel/core/operator_solver.hpp"
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class FreeSetSolver {
public:
  using Outcome = KrylovOutcome;

  /// `jacobian` (borrowed, constant) is J itself; its transpose is formed once unless J is known
  /// to be symmetric (MAT_SYMMETRIC), in which case the Krylov method defaults to CG. Options
  /// under -<prefix>ksp_*, -<prefix>pc_*.
  FreeSetSolver(MPI_Comm comm, Mat jacobian, const std::string& prefix, double rtol);

  /// Solves for lambda given the mask of free coordinates (1 free, 0 active); lambda's free
  /// entries on entry are the initial guess, its active ones are set to 0.
  Outcome solve(Vec mask, Vec rhs, Vec lambda);

  /// Whether J (hence every free block J_FF) is known to be symmetric.
  bool symmetric() const { return symmetric_; }

  /// Records the -<prefix>ksp_*, -<prefix>pc_type options for -help; shared with the
  /// matrix-free path (OperatorSolver), whose defaults the help text names too.
  static void declare_options(const std::string& prefix, double rtol);

private:
  MPI_Comm comm_;
  Mat jacobian_;       ///< J, borrowed
  OwnedMat transpose_; ///< J' when J is not known to be symmetric
  bool symmetric_ = false;
  OwnedIS free_;   ///< the free set of the last solve
  OwnedMat block_; ///< its block of J' (J when symmetric)
  OwnedKSP ksp_;
};

} // namespace bilevel
