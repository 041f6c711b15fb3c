#include "bilevel/qp/box_qp_solver.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

BoxQpSolverConfig BoxQpSolverConfig::from_options(const std::string& prefix) {
  BoxQpSolverConfig c;
  c.solver = options::get_choice("-" + prefix + "lower_solver", c.solver, {"active_set", "tao"},
                                 "solver of the bound-constrained lower QP: primal-dual active "
                                 "set with masked CG (active_set) or PETSc TAO (tao)");
  c.active_set = ActiveSetBoxQpSolver::Config::from_options(prefix + "active_set_");
  c.tao = TaoBoxQpSolver::Config::from_options(prefix);
  return c;
}

std::unique_ptr<BoxQpSolver> make_box_qp_solver(const BoxQpSolverConfig& config, MPI_Comm comm,
                                                Vec y_model, const std::string& prefix) {
  if (config.solver == "tao")
    return std::make_unique<TaoBoxQpSolver>(comm, y_model, prefix, config.tao);
  return std::make_unique<ActiveSetBoxQpSolver>(comm, y_model, prefix + "active_set_",
                                                config.active_set);
}

} // namespace bilevel
