#pragma once
// The PGD-QP paper's coreset selection instance (Appendix C.1.2, after BOME; docs/algorithms.md
// §7.6):
//   f = ||y - y_0||^2,   g = ||y - A softmax(x)||^2,   x in R^4, y in R^2, A in R^{2x4}.
// The paper gives neither A nor y_0: both are drawn N(0, 1) from the counter generator (-seed),
// so every rank layout builds the same instance. y*(x) = A softmax(x), so
// grad Phi = 2 J' A' (A softmax(x) - y_0) with J = diag(s) - s s' the softmax Jacobian.
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class Coreset final : public ReplicatedProblem {
public:
  static constexpr ProblemStructure kStructure{.exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  Coreset(MPI_Comm comm, Config config);

  std::string name() const override { return "coreset"; }
  PetscInt nx() const override { return 4; }
  PetscInt ny() const override { return 2; }
  /// grad^2_yy g = 2 I.
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override { return {2.0, 2.0}; }
  void export_data(hid_t group) const override;

protected:
  /// x = 0: every candidate point weighted equally.
  Vector initial_x() const override { return Vector::Zero(4); }
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
  Eigen::MatrixXd A_;
  Eigen::VectorXd y0_;
};

} // namespace bilevel
