#pragma once
// A problem discretised on a grid that can be coarsened, for grid sequencing: a cold lower solve
// on the fine grid starts from the solution on a coarser copy of the instance, interpolated up
// (GridSequencedStart). On obstacle_control the semismooth Newton method from the obstacle itself
// frees about one grid line of the contact set per step (74 steps at 1024^2, growing like N);
// from the interpolated coarse solution the free boundary is already right to within a coarse
// cell.
#include "bilevel/core/petsc_handle.hpp"

#include <memory>

namespace bilevel {

class Problem;

class GridHierarchy {
public:
  virtual ~GridHierarchy() = default;
  /// The same instance on a grid about half as fine, or nullptr if that grid would have fewer
  /// than `min_grid` points per side.
  virtual std::unique_ptr<Problem> coarsened(PetscInt min_grid) const = 0;
  /// x on this grid sampled at `coarse`'s grid points (x_coarse laid out like coarse.create_x()).
  virtual void restrict_x(const Problem& coarse, Vec x, Vec x_coarse) const = 0;
  /// y_coarse on `coarse`'s grid interpolated to this grid and projected onto Y.
  virtual void prolong_y(const Problem& coarse, Vec y_coarse, Vec y) const = 0;
};

} // namespace bilevel
