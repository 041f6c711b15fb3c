#pragma once
// A small affine VI on a box with a closed-form hypergradient (docs/algorithms.md §7.8):
//   F(y, x) = M y + N x + q,  M = S + K  (S SPD, K skew: strongly monotone, non-symmetric),
//   Y = [lo, hi]^ny,  f(x, y) = 1/2 ||y - y_d||^2 + (alpha/2) ||x||^2,  X = [-xb, xb]^nx.
// mu = lambda_min(S) (the symmetric part of M) and L = ||M||_2 are computed exactly. All data is
// dense, replicated on every rank and drawn from CounterRng, so any rank count builds the same
// instance; x and y are distributed Vecs like every problem's.
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/problems/vi_problem.hpp"
#include "bilevel/sets/box.hpp"

#include <Eigen/Dense>

#include <vector>

namespace bilevel {

class AffineViBox final : public ViProblem {
public:
  static constexpr ProblemStructure kStructure{.form = LowerForm::vi,
                                               .constraints = LowerConstraints::bounds,
                                               .exact_hypergradient = true,
                                               .upper_constrained = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt nx, ny;
    double mu_shift; ///< S = mu_shift I + G G'
    double skew;     ///< K = skew (H - H')
    double lo, hi, x_bound, alpha;
    long long seed;
    DGap gap;
    static Config from_options(const RunSpec& run);
  };
  AffineViBox(MPI_Comm comm, Config config);

  std::string name() const override { return "affine_vi_box"; }
  PetscInt nx() const override { return config_.nx; }
  PetscInt ny() const override { return config_.ny; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const override;
  void initial_y(Vec x, Vec y) const override;

  const ConstraintSet* lower_set() const override { return &lower_set_; }
  const ConstraintSet* upper_set() const override { return &upper_set_; }
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override { return curvature_; }

  void exact_hypergradient(Vec x, Vec grad, Vec y_star) override;
  /// `contact_fraction`: the share of coordinates of y*(x) on a bound (outside the timed region).
  void report_metrics(Vec x, Vec y, Record& record) override;

private:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  void evaluate_vi_map(Vec x, Vec y, Vec out) override;
  void evaluate_vi_jac_y(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_vi_jac_x(Vec x, Vec y, Vec w, Vec out_y) override;
  void evaluate_vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x) override;

  struct Solution {
    Eigen::VectorXd y;
    std::vector<PetscInt> free; ///< indices strictly inside the box
  };
  /// y*(x) by the natural-map fixed point polished by a semismooth Newton (active-set) solve.
  Solution solve(const Eigen::VectorXd& x) const;

  Config config_;
  Eigen::MatrixXd M_, N_;
  Eigen::VectorXd q_, y_d_, x0_;
  Curvature curvature_;
  Box lower_set_, upper_set_;
};

} // namespace bilevel
