#pragma once
// A linear solve A v = rhs with A given only as a product (a MatShell over a std::function) and
// a PETSc KSP configured from the options database under a prefix. kkt_vi's non-symmetric
// free-set system uses it with GMRES; HessianSolver wraps it with CG for grad^2_yy g.
#include "bilevel/core/petsc_handle.hpp"

#include <functional>
#include <string>

namespace bilevel {

/// How a Krylov solve ended.
struct KrylovOutcome {
  PetscInt iterations;
  bool converged;
};
/// The outcome of the last KSPSolve of `ksp`.
KrylovOutcome krylov_outcome(KSP ksp);

class OperatorSolver {
public:
  using Apply = std::function<void(Vec in, Vec out)>;
  using Outcome = KrylovOutcome;

  /// Operator laid out like `model`; KSP of type `ksp_type` (no preconditioner) unless the
  /// options `-<prefix>ksp_type`, `-<prefix>pc_type`, ... say otherwise.
  OperatorSolver(MPI_Comm comm, Vec model, const std::string& prefix, const std::string& ksp_type,
                 double rtol);
  OperatorSolver(const OperatorSolver&) = delete; // the MatShell's context is this object
  OperatorSolver& operator=(const OperatorSolver&) = delete;

  /// Solves with the current operator `apply`; v's value on entry is the initial guess.
  Outcome solve(const Apply& apply, Vec rhs, Vec v);

  /// Sets the absolute residual tolerance of the next solves, keeping the relative one and the
  /// iteration limit (callers whose target scales with their data, e.g. ||q||).
  void set_absolute_tolerance(double atol);

  /// Records the -<prefix>ksp_* options for -help.
  static void declare_options(const std::string& prefix, const std::string& ksp_type, double rtol);

private:
  static PetscErrorCode mult(Mat shell, Vec in, Vec out);

  const Apply* apply_ = nullptr; ///< borrowed for the duration of solve()
  OwnedMat shell_;
  OwnedKSP ksp_;
};

} // namespace bilevel
