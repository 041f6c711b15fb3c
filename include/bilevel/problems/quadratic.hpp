#pragma once
// The quadratic bilevel instance with a closed-form hypergradient (the suite's ground truth):
//   g(x, y) = 1/2 y'Qy - y'Bx + c'y,   f(x, y) = 1/2 ||Cy - d||^2 + (r/2) ||x||^2,
//   y*(x) = Q^{-1}(Bx - c),   grad Phi(x) = r x + B' Q^{-1} C'(C y* - d).
// Q = H Lambda H with H a Householder reflector and Lambda geometrically spaced in [1, cond], so
// Q is SPD with condition number exactly `cond`, applied and inverted in O(ny) matrix-free; B is
// a distributed dense ny x nx matrix with N(0, 1/ny) entries, C a banded ny x ny one. y and the
// rows of B and C are distributed; every entry comes from a counter-based generator, so any rank
// count builds the same instance.
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class Quadratic final : public Problem {
public:
  static constexpr ProblemStructure kStructure{.exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt nx, ny;
    double cond, r;
    long long seed;
    bool inject_nan; ///< corrupt d[0] in memory: exercises the driver's divergence detection
    static Config from_options(const RunSpec& run);
  };
  Quadratic(MPI_Comm comm, Config config);

  std::string name() const override { return "quadratic"; }
  PetscInt nx() const override { return config_.nx; }
  PetscInt ny() const override { return config_.ny; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const override;

  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override { return {1.0, config_.cond}; }
  void exact_hypergradient(Vec x, Vec grad, Vec y_star) override;
  void export_data(hid_t group) const override;

  /// out = Q^{-1} v, exactly (for the closed form; not an oracle algorithms may use).
  void apply_q_inverse(Vec v, Vec out) const;

private:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  double evaluate_lower_value(Vec x, Vec y) override;
  void evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  void evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) override;
  void evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) override;

  /// out = H diag(scale) H v.
  void apply_reflected_diagonal(Vec scale, Vec v, Vec out) const;
  /// Cy - d into residual_.
  void residual(Vec y) const;

  Config config_;
  OwnedMat B_, C_;
  OwnedVec householder_, eigenvalues_, inverse_eigenvalues_, c_, d_;
  OwnedVec work_y_, residual_, work_x_;
};

} // namespace bilevel
