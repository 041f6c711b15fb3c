#pragma once
// The FFO-layer paper's large distributed instance: a bound-constrained QP lower level on PETSc
// Vecs,
//   g(x, y) = 1/2 y'Hy - (Bx + c)'y   s.t.  lower <= y <= upper,
//   f(x, y) = 1/(2 ny) ||y - d||^2 + (r/2) ||x||^2,
// H = tridiag(-1, 2 + sigma, -1) (the 1-D Laplacian plus a shift, SPD with eigenvalues in
// (sigma, 4 + sigma)), y and H's rows distributed. x holds nx coefficients of hat functions on
// a uniform coarse grid of [0, 1] and B (ny x nx, at most two entries per row) interpolates them
// onto the ny fine points t_i = (i + 1/2)/ny, so Bx is a piecewise-linear load. x is a PETSc Vec
// with B's column layout (its few entries sit on the first ranks): B x and B' v are ordinary
// MatMult/MatMultTranspose, so nothing is replicated and the reduction in B'v is PETSc's.
// c ~ N(0, 0.3^2), the bounds lower_i = lo - U/2, upper_i = hi + U/2 (U ~ U[0, 1]) and
// d_i = 0.5 sin(2 pi t_i) come from counter generators by global index: the instance is the same
// on every rank count. There is no closed form; the tests check against central differences.
#include "bilevel/problems/box_qp_lower_level.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/sets/vector_box.hpp"

#include <memory>

namespace bilevel {

class BoxQpBilevel final : public Problem, public BoxQpLowerLevel {
public:
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::bounds,
                                               .box_qp_lower_level = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt nx, ny;
    double shift, lower, upper, r;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  BoxQpBilevel(MPI_Comm comm, Config config);

  std::string name() const override { return "box_qp_bilevel"; }
  PetscInt nx() const override { return config_.nx; }
  PetscInt ny() const override { return config_.ny; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const override;

  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override {
    return {config_.shift, 4.0 + config_.shift};
  }
  /// The bounds as a set, so the generic methods (kkt_vi, itd_vi, bda, igfm) see them too.
  const ConstraintSet* lower_set() const override { return lower_set_.get(); }
  /// ||P(y - grad_y g) - y||, P the projection onto the bounds.
  double lower_residual(Vec x, Vec y) override;

  BoxQp lower_box_qp(Vec x) override;
  /// c, d, lower, upper (ny) and x0 (nx), written in parallel; H and B follow from the
  /// attributes `shift` and the sizes (docs/result-format.md).
  void export_data(hid_t group) const override;

private:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  double evaluate_lower_value(Vec x, Vec y) override;
  void evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  void evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) override;
  void evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) override;

  Config config_;
  OwnedMat H_, B_;
  OwnedVec c_, d_, lower_, upper_, q_, work_y_;
  std::unique_ptr<VectorBox> lower_set_;
};

} // namespace bilevel
