#pragma once
// A bound-constrained QP solver built for distributed memory: the primal-dual active-set method
// (Hintermüller, Ito & Kunisch, "The primal-dual active set strategy as a semismooth Newton
// method", SIAM J. Optim. 13(3), 2002), i.e. semismooth Newton on the natural residual
// y - P(y - D^-1 (H y - q)), D = diag(H). Each step
//   1. predicts the bound rows: y_i - (H y - q)_i / H_ii at or beyond a bound fixes y_i there;
//   2. solves H_FF d_F = (q - H y)_F on the other (free) rows by CG, warm-started at d = 0.
// The free-row system is applied through a mask (rows of the bound set act as the identity) on
// H itself, so no submatrix is built and no subvector is scattered: a step costs one reduction
// for its stopping test and CG's, and nothing else couples the ranks. The CG solve is inexact
// (relative tolerance -<prefix>ksp_rtol, the forcing term; absolute tolerance half the QP's),
// and the step count is bounded by -<prefix>max_it.
// For an M-matrix H and one-sided bounds the paper proves convergence in finitely many steps;
// with two-sided bounds (box_qp_bilevel's, on its M-matrix tridiag(-1, 2 + sigma, -1): 9-10
// steps per solve) or a general SPD H it can cycle, which ends the solve not_converged at the
// step limit, never silently. The stopping test is TaoBoxQpSolver's:
// ||P(y - g) - y||_2 <= rtol ||q||_2; the returned y is projected onto the box.
#include "bilevel/core/operator_solver.hpp"
#include "bilevel/qp/box_qp.hpp"

#include <string>

namespace bilevel {

class ActiveSetBoxQpSolver final : public BoxQpSolver {
public:
  struct Config {
    double rtol = 1e-10;
    PetscInt max_iterations = 100;
    /// Reads -<prefix>rtol and -<prefix>max_it; declares the CG's -<prefix>ksp_* options.
    static Config from_options(const std::string& prefix);
  };

  /// Work vectors laid out like `y_model`; CG options under -<prefix>ksp_*.
  ActiveSetBoxQpSolver(MPI_Comm comm, Vec y_model, const std::string& prefix, const Config& config);

  BoxQpResult solve(const BoxQp& qp, Vec y, Vec gradient) override;
  std::string name() const override { return "active_set"; }

private:
  /// Fixes the predicted bound rows of y at their bound and marks them in bound_rows_ (1 bound,
  /// 0 free).
  void predict_bound_rows(const BoxQp& qp, Vec y, Vec gradient);
  /// out = in on bound rows, (H in) on free rows.
  void apply_free_rows(Mat H, Vec in, Vec out) const;

  Config config_;
  OwnedVec start_, diagonal_, bound_rows_, residual_, step_;
  OperatorSolver krylov_;
};

} // namespace bilevel
