#pragma once
// The solvers of a distributed bound-constrained QP (BoxQp), chosen by -<prefix>lower_solver:
//   active_set  the primal-dual active-set method with CG on the free rows through a mask
//               (active_set_box_qp_solver.hpp): no submatrix, no subvector scatter
//   tao         PETSc TAO, TRON by default (tao_box_qp_solver.hpp)
// Both stop at the same test, ||P(y - g) - y||_2 <= rtol ||q||_2, and return a feasible, finite y.
#include "bilevel/qp/active_set_box_qp_solver.hpp"
#include "bilevel/qp/tao_box_qp_solver.hpp"

#include <memory>
#include <string>

namespace bilevel {

struct BoxQpSolverConfig {
  std::string solver = "active_set";
  ActiveSetBoxQpSolver::Config active_set;
  TaoBoxQpSolver::Config tao;
  /// Reads -<prefix>lower_solver and both solvers' options (-<prefix>active_set_*,
  /// -<prefix>tao_*).
  static BoxQpSolverConfig from_options(const std::string& prefix);
};

/// The solver `config.solver` on `comm`, work vectors like y_model, options under -<prefix>.
std::unique_ptr<BoxQpSolver> make_box_qp_solver(const BoxQpSolverConfig& config, MPI_Comm comm,
                                                Vec y_model, const std::string& prefix);

} // namespace bilevel
