#pragma once
// Optimal control of the obstacle problem (an MPEC; docs/algorithms.md §7.9) on
// the unit square, an N x N interior grid (PETSc DMDA, distributed), h = 1/(N + 1):
//   F(y, x) = K y - x,  K the 5-point Laplacian / h^2 with zero Dirichlet data (SPD, so F is
//   strongly monotone with mu = lambda_min(K), L = lambda_max(K), both known in closed form),
//   Y = {y >= psi},  f = 1/2 ||y - y_d||^2 h^2 + (alpha/2) ||x||^2 h^2,  X = [-xb, xb]^{N^2}.
// nx = ny = N^2: x is the distributed load, so reverse-mode ITD is the natural choice.
#include "bilevel/problems/grid_hierarchy.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/problems/vi_problem.hpp"
#include "bilevel/sets/box.hpp"
#include "bilevel/sets/lower_bound.hpp"

#include <memory>

namespace bilevel {

class ObstacleControl final : public ViProblem, public GridHierarchy {
public:
  static constexpr ProblemStructure kStructure{.form = LowerForm::vi,
                                               .constraints = LowerConstraints::bounds,
                                               .upper_constrained = true,
                                               .constant_vi_jacobian = true,
                                               .grid_hierarchy = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt grid;
    double alpha, x_bound, load;
    DGap gap;
    static Config from_options(const RunSpec& run);
  };
  ObstacleControl(MPI_Comm comm, Config config);

  std::string name() const override { return "obstacle_control"; }
  PetscInt nx() const override { return config_.grid * config_.grid; }
  PetscInt ny() const override { return config_.grid * config_.grid; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const override;
  /// psi itself: feasible.
  void initial_y(Vec x, Vec y) const override;

  const ConstraintSet* lower_set() const override { return lower_set_.get(); }
  const ConstraintSet* upper_set() const override { return &upper_set_; }
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override { return curvature_; }
  /// The Laplacian K (assembled on the DMDA).
  Mat constant_jacobian_y() const override { return K_; }
  /// `contact_fraction`: the share of grid points where the lower iterate touches psi.
  void report_metrics(Vec x, Vec y, Record& record) override;

  /// Grid (N - 1)/2: nested in this one when N is odd.
  std::unique_ptr<Problem> coarsened(PetscInt min_grid) const override;
  void restrict_x(const Problem& coarse, Vec x, Vec x_coarse) const override;
  void prolong_y(const Problem& coarse, Vec y_coarse, Vec y) const override;

private:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  void evaluate_vi_map(Vec x, Vec y, Vec out) override;
  void evaluate_vi_jac_y(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_vi_jac_x(Vec x, Vec y, Vec w, Vec out_y) override;
  void evaluate_vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x) override;

  Config config_;
  double h_;
  OwnedDM da_;
  OwnedMat K_;
  OwnedVec psi_, y_d_, work_;
  std::unique_ptr<LowerBound> lower_set_;
  Box upper_set_;
  Curvature curvature_;
};

} // namespace bilevel
