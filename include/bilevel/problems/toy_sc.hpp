#pragma once
// The PGD-QP paper's strongly convex synthetic instance (Appendix C.1.1, docs/algorithms.md §7.4):
//   f = sin(c'x + d'y) + log(||x + y||^2 + 1),   g = 1/2 ||Hy - x||^2,   x, y in R^n (n = 20),
// H = U diag(s) V' with s geometrically spaced in [1, sqrt(cond)] so cond(H'H) = cond <= 100
// (cond(H) <= 10 as the paper asks). y*(x) = H^{-1} x gives the exact hypergradient.
// toy_nonconvex derives from it: same data and upper level, lower level cos of this g.
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class ToySc : public ReplicatedProblem {
public:
  static constexpr ProblemStructure kStructure{.exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt n;
    double cond_h;
    long long seed;
    /// Reads the options under `section` (toy_nonconvex shares them under its own name).
    static Config from_options(const RunSpec& run, const char* section = "problem toy_sc");
  };
  ToySc(MPI_Comm comm, Config config);

  std::string name() const override { return "toy_sc"; }
  PetscInt nx() const override { return config_.n; }
  PetscInt ny() const override { return config_.n; }
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override;
  void export_data(hid_t group) const override;

protected:
  Vector initial_x() const override;
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;

private:
  Config config_;
  Eigen::MatrixXd H_;
  Eigen::VectorXd c_, d_, singular_values_;
};

} // namespace bilevel
