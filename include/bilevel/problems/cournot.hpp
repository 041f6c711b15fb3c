#pragma once
// Nash-Cournot game with a regulator's taxes (docs/algorithms.md §7.10). N firms
// choose outputs y_i in [0, cap]; inverse demand p(Q) = a - b Q with Q = sum_i y_i and
// b = slope / N (so the market's total size does not vanish as N grows); firm i's cost
// c_i y_i + (d_i/2) y_i^2 plus a per-unit tax x_i. Its equilibrium condition is the VI of
//   F_i(y, x) = c_i + x_i + d_i y_i - p(Q) + b y_i      (marginal cost minus marginal revenue),
//   grad_y F = diag(d + b) + b 1 1'   (symmetric: applied matrix-free, one global sum a product),
//   grad_x F = I.
// The regulator minimises lost welfare plus emission damage plus a tax-administration cost:
//   f(x, y) = -W(y) + kappa <e, y> + (gamma/2) ||x||^2,
//   W(y) = a Q - (b/2) Q^2 - sum_i (c_i y_i + (d_i/2) y_i^2)  (taxes are transfers: not in W),
// with emission intensities e_i, over X = [-xb, xb]^N (negative taxes are subsidies, which can
// offset the firms' market power). Firms are distributed across ranks (a PETSc Vec of N
// entries); c, d and e come from CounterRng by the firm's global index, so every rank count
// builds the same market.
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/problems/vi_problem.hpp"
#include "bilevel/sets/box.hpp"

namespace bilevel {

class Cournot final : public ViProblem {
public:
  static constexpr ProblemStructure kStructure{
      .form = LowerForm::vi, .constraints = LowerConstraints::bounds, .upper_constrained = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt firms;
    double demand_intercept, demand_slope, cap, damage, tax_cost, x_bound;
    long long seed;
    DGap gap;
    static Config from_options(const RunSpec& run);
  };
  Cournot(MPI_Comm comm, Config config);

  std::string name() const override { return "cournot"; }
  PetscInt nx() const override { return config_.firms; }
  PetscInt ny() const override { return config_.firms; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  /// No taxes.
  void initial_x(Vec x) const override;

  const ConstraintSet* lower_set() const override { return &lower_set_; }
  const ConstraintSet* upper_set() const override { return &upper_set_; }
  /// mu = min_i d_i + b (the rank-one part is PSD), L = max_i d_i + b + b N (its norm added).
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override { return curvature_; }
  /// `market_price` p(Q), `idle_fraction` (y_i = 0) and `capped_fraction` (y_i = cap).
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

  /// b = slope / N.
  double slope() const;

  Config config_;
  OwnedVec c_, d_, e_;
  Box lower_set_, upper_set_;
  Curvature curvature_;
};

} // namespace bilevel
