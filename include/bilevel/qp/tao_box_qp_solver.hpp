#pragma once
// The distributed bound-constrained QP solver of the FFO-layer paper's large lower level: PETSc TAO
// (TRON by default: projected-gradient steps plus a CG Newton solve on the free face, exact for
// a QP, so a handful of iterations; BNLS, BNTR, BLMVM, GPCG, ... by -<prefix>tao_type) on the
// Mat H and Vecs of a BoxQp. (GPCG and BQNLS did not reach rtol 1e-10 within 10^4 iterations on
// box_qp_bilevel; they end not_converged.) The stopping test is ours, relative: ||P(y - g) - y||_2
// <= rtol ||q||_2 (TAO's gatol is set to that before every solve, its grtol and gttol to 0).
// Crossed bounds are reported as a status, not passed to TAO, and a non-finite iterate is replaced
// by the feasible start, so the returned y is always finite. TAO's inner KSP (TRON's
// trust-region CG) gets a Jacobi preconditioner, which (unlike the parallel default
// block-Jacobi/ILU) does not depend on the rank count.
#include "bilevel/qp/box_qp.hpp"

#include <petsctao.h>

#include <string>

namespace bilevel {

using OwnedTao = PetscHandle<Tao, TaoDestroy>;

class TaoBoxQpSolver final : public BoxQpSolver {
public:
  struct Config {
    std::string type = TAOTRON;
    double rtol = 1e-10;
    PetscInt max_iterations = 10000;
    /// Reads -<prefix>tao_type, -<prefix>tao_rtol, -<prefix>tao_max_it.
    static Config from_options(const std::string& prefix);
  };

  /// TAO on `comm` with work vectors laid out like `y_model`; further TAO options (monitors,
  /// its KSP) under -<prefix>.
  TaoBoxQpSolver(MPI_Comm comm, Vec y_model, const std::string& prefix, const Config& config);
  TaoBoxQpSolver(const TaoBoxQpSolver&) = delete; // TAO's callbacks hold `this`
  TaoBoxQpSolver& operator=(const TaoBoxQpSolver&) = delete;

  BoxQpResult solve(const BoxQp& qp, Vec y, Vec gradient) override;
  std::string name() const override { return "tao"; }

private:
  static PetscErrorCode objective_and_gradient(Tao tao, Vec y, PetscReal* value, Vec gradient,
                                               void* self);
  static PetscErrorCode hessian(Tao tao, Vec y, Mat H, Mat preconditioner, void* self);

  Config config_;
  const BoxQp* qp_ = nullptr; ///< borrowed for the duration of solve()
  OwnedVec start_, work_;
  OwnedTao tao_;
};

} // namespace bilevel
