#pragma once
// Grid sequencing for a cold SnesViSolver solve on a problem with a GridHierarchy: the VI is
// solved on successively coarser copies of the instance down to a smallest grid, each level
// starting from the interpolated solution of the one below, and the finest coarse solution,
// interpolated and projected onto Y, becomes the fine solve's starting point. Each level then
// needs only a few Newton steps, where the semismooth Newton method from the obstacle needs a
// number of steps that grows like the grid (docs/algorithms.md §3.8).
#include "bilevel/core/petsc_handle.hpp"

#include <string>

namespace bilevel {

class Problem;

class GridSequencedStart {
public:
  /// Coarse solves use SnesViSolver with the options under -<prefix> (the fine solver's) and stop
  /// at the D-gap `tolerance`; the coarsest grid has at least `min_grid` points per side.
  GridSequencedStart(std::string prefix, double tolerance, PetscInt min_grid);

  /// The coarse levels of one start: their Newton steps together, and whether every level met
  /// the tolerance. An unconverged level only gives the fine solve a worse start (the fine solve
  /// checks its own tolerance), so it is reported, not treated as a failed inner solve.
  struct Outcome {
    PetscInt newton_steps = 0;
    bool converged = true;
  };

  /// Overwrites y (laid out like problem.create_y()) with the start for the solve at x.
  Outcome run(Problem& problem, Vec x, Vec y) const;

private:
  std::string prefix_;
  double tolerance_;
  PetscInt min_grid_;
};

} // namespace bilevel
