#pragma once
// The reference stochastic benchmark's simulated quadratic (docs/algorithms.md §7.21): both
// levels are means of quadratics, each sample's term of rank-one curvature plus a ridge,
//   g_i(x, y) = 1/2 (a_i'y + p_i'x)^2 + mu/2 ||y||^2 + c_i'y + d_i'x,        i < n (inner),
//   f_j(x, y) = 1/2 (e_j'y + b_j'x)^2 + mu/2 (||x||^2 + ||y||^2) + s_j'y + t_j'x,  j < m (outer),
// so a sample stores O(nx + ny) numbers, not a matrix, and the mean Hessians are
//   H = grad^2_yy g = mu I + mean a_i a_i'  (its eigenvalues in [mu, L], the top one exactly L),
//   grad^2_xy g = mean p_i a_i'.
// The a_i have the logarithmically spread variances of the reference generator (from mu to L per
// coordinate), then a common scale fixes the top eigenvalue of H at L. f's joint Hessian in (x, y)
// is mu I plus a positive semidefinite mean, so Phi is mu-strongly convex: the setting in which
// SABA converges linearly. y*(x) = -H^{-1}((mean p_i a_i')' x + mean c_i) gives Phi's
// gradient in closed form.
//
// Samples are split across ranks in contiguous ranges and drawn from counter streams by global
// index, so every rank count builds the same instance; x and y are replicated, and the full-batch
// oracles use the exact means, reduced once at construction.
#include "bilevel/problems/finite_sum.hpp"
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class FiniteSumQuadratic final : public ReplicatedProblem, public FiniteSumProblem {
public:
  using Vector = Eigen::VectorXd;
  static constexpr ProblemStructure kStructure{.exact_hypergradient = true, .finite_sum = true};
  const ProblemStructure& structure() const override { return kStructure; }

  struct Config {
    long long n_inner;  ///< n, samples of g
    long long n_outer;  ///< m, samples of f
    PetscInt dim_inner; ///< ny
    PetscInt dim_outer; ///< nx
    double mu;          ///< smallest eigenvalue bound of H, and the ridge of f
    double lipschitz;   ///< largest eigenvalue of H
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  FiniteSumQuadratic(MPI_Comm comm, Config config);

  std::string name() const override { return "finite_sum_quadratic"; }
  PetscInt nx() const override { return config_.dim_outer; }
  PetscInt ny() const override { return config_.dim_inner; }
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override;

  // FiniteSumProblem
  long long samples(SampleRole role) const override;
  SampleRange local_samples(SampleRole role) const override;
  void sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                        std::span<const long long> owned, XColumns* gx, Columns* gy) override;
  Columns sample_lower_hess_yy(const Vector& x, const Vector& y, std::span<const long long> owned,
                               const Vector& v) override;
  XColumns sample_lower_hess_xy(const Vector& x, const Vector& y, std::span<const long long> owned,
                                const Vector& v) override;

protected:
  Vector initial_x() const override { return Vector::Zero(config_.dim_outer); }
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;

private:
  /// One sum's owned samples, a column each: the term is
  /// 1/2 (u'y + w'x)^2 + ridge + lin_y'y + lin_x'x.
  struct Samples {
    SampleRange range;
    Eigen::MatrixXd u, w, lin_y, lin_x; ///< ny, nx, ny, nx rows
  };
  /// A quadratic 1/2 [x; y]' [[Q_xx, Q_xy], [Q_xy', Q_yy]] [x; y] + l_x'x + l_y'y: the mean of a
  /// sum's samples.
  struct Mean {
    Eigen::MatrixXd xx, xy, yy;
    Vector lin_x, lin_y;
  };
  Samples generate(SampleRole role) const;
  Mean mean_of(const Samples& samples, long long count, double ridge_x, double ridge_y) const;
  const Samples& of(SampleRole role) const { return role == SampleRole::lower ? lower_ : upper_; }
  /// Column k of the batch: the owned sample's local position.
  Eigen::Index local(const Samples& samples, long long index) const;

  Config config_;
  Samples lower_, upper_;
  Mean g_mean_, f_mean_;
  Eigen::LLT<Eigen::MatrixXd> h_factor_; ///< of g_mean_.yy
  double h_min_eigenvalue_ = 0.0;
};

} // namespace bilevel
