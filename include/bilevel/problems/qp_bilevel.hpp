#pragma once
// A bilevel problem with a constrained QP lower level and a closed-form hypergradient (the
// FFO-layer paper's test instance for the ffo/ffoqp/kkt oracles and the delta sweep):
//   g(x, y) = 1/2 y'Qy + y'(c - Bx)     s.t.  G y <= h,  A y = b,
//   f(x, y) = 1/2 ||y - d||^2 + (r/2) ||x||^2.
// Q = MM'/ny + I/2, G and A Gaussian, h = G y_ref + U[0, 1/2] and b = A y_ref (y_ref feasible);
// c is large enough that many inequalities bind. The closed form does not use the oracles'
// machinery: with Q = LL' and z = L'y the lower level is the Euclidean projection of
// L'Q^{-1}(Bx - c) onto {z : G L^{-T} z <= h, A L^{-T} z = b}, done by the Polyhedron set
// (Goldfarb-Idnani), and dy*/dx = L^{-T} P_N L^{-1} B with P_N the projection's Jacobian.
#include "bilevel/problems/qp_lower_level.hpp"
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/sets/polyhedron.hpp"

#include <memory>

namespace bilevel {

class QpBilevel final : public ReplicatedProblem, public QpLowerLevel {
public:
  static constexpr ProblemStructure kStructure{
      .constraints = LowerConstraints::set, .exact_hypergradient = true, .qp_lower_level = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    PetscInt nx, ny, inequalities, equalities;
    double r;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  QpBilevel(MPI_Comm comm, Config config);

  std::string name() const override { return "qp_bilevel"; }
  PetscInt nx() const override { return config_.nx; }
  PetscInt ny() const override { return config_.ny; }
  const ConstraintSet* lower_set() const override { return set_.get(); }
  DenseQp lower_qp(const Eigen::VectorXd& x) const override;
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
  DenseQp qp_; ///< q holds c; lower_qp subtracts Bx
  Eigen::MatrixXd B_;
  Eigen::VectorXd d_;
  std::unique_ptr<Polyhedron> set_;
};

} // namespace bilevel
