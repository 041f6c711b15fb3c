#include "bilevel/solvers/grid_sequenced_start.hpp"

#include "bilevel/problems/interfaces.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <utility>

namespace bilevel {

GridSequencedStart::GridSequencedStart(std::string prefix, double tolerance, PetscInt min_grid)
    : prefix_(std::move(prefix)), tolerance_(tolerance), min_grid_(min_grid) {}

GridSequencedStart::Outcome GridSequencedStart::run(Problem& problem, Vec x, Vec y) const {
  if (!problem.structure().grid_hierarchy)
    return {};
  const GridHierarchy& hierarchy = require<GridHierarchy>(problem);
  const std::unique_ptr<Problem> coarse = hierarchy.coarsened(min_grid_);
  if (!coarse)
    return {}; // the coarsest level starts where the problem does
  OwnedVec x_coarse = coarse->create_x(), y_coarse = coarse->create_y();
  hierarchy.restrict_x(*coarse, x, x_coarse);
  coarse->initial_y(x_coarse, y_coarse);
  Outcome outcome = run(*coarse, x_coarse, y_coarse);
  SnesViSolver solver(*coarse, y_coarse, prefix_);
  const SnesViSolver::Outcome level = solver.solve(x_coarse, y_coarse, tolerance_);
  hierarchy.prolong_y(*coarse, y_coarse, y);
  outcome.newton_steps += level.newton_steps;
  outcome.converged = outcome.converged && level.converged;
  return outcome;
}

} // namespace bilevel
