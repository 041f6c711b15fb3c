#include "bilevel/problems/affine_vi_box.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

namespace {
// Independent streams of the counter generator, one per piece of data.
enum Stream : std::uint64_t { kG = 1, kH, kN, kq, kyd, kx0 };

/// A rows x cols matrix with N(0, scale^2) entries, entry (i, j) drawn at index i * cols + j.
Eigen::MatrixXd random_matrix(const CounterRng& rng, PetscInt rows, PetscInt cols, double scale) {
  Eigen::MatrixXd m(rows, cols);
  for (PetscInt i = 0; i < rows; ++i)
    for (PetscInt j = 0; j < cols; ++j)
      m(i, j) = scale * rng.normal(static_cast<std::uint64_t>(i * cols + j));
  return m;
}

Eigen::VectorXd random_vector(const CounterRng& rng, PetscInt n, double scale) {
  return random_matrix(rng, n, 1, scale);
}

OwnedVec create_distributed(MPI_Comm comm, PetscInt n) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, n, v.receive()));
  return v;
}

constexpr int kMaxPolishRounds = 50;
constexpr int kFixedPointBurst = 200;
constexpr double kSolveTolerance = 1e-13;
} // namespace

AffineViBox::Config AffineViBox::Config::from_options(const RunSpec& run) {
  OptionSection section("problem affine_vi_box");
  const PetscInt nx = options::get_int("-problem_nx", 5, 1, 1000, "upper-level dimension nx");
  const PetscInt ny = options::get_int("-problem_ny", 30, 1, 2000, "lower-level dimension ny");
  const double mu = options::get_positive("-problem_mu", 1.0, "S = mu I + G G' (mu <= lambda_min)");
  const double skew = options::get_real("-problem_skew", 1.0, 0.0, 1e6, "K = skew (H - H')");
  const double lo = options::get_real("-problem_lo", -0.5, -1e12, 1e12, "lower bound of Y");
  const double hi = options::get_real("-problem_hi", 0.5, -1e12, 1e12, "upper bound of Y");
  const double xb = options::get_positive("-problem_x_bound", 10.0, "X = [-xb, xb]^nx");
  const double alpha = options::get_real("-problem_alpha", 0.1, 0.0, 1e12, "upper weight alpha");
  const long long seed = run.seed;
  const DGap gap = DGap::from_options(0.5, 2.0);
  return Config{nx, ny, mu, skew, lo, hi, xb, alpha, seed, gap};
}

AffineViBox::AffineViBox(MPI_Comm comm, Config config)
    : ViProblem(comm, config.gap), config_(config), curvature_{0.0, 0.0},
      lower_set_(config.lo, config.hi), upper_set_(-config.x_bound, config.x_bound) {
  const PetscInt nx = config_.nx, ny = config_.ny;
  const auto seed = static_cast<std::uint64_t>(config_.seed);
  const double inv_sqrt_ny = 1.0 / std::sqrt(static_cast<double>(ny));
  const Eigen::MatrixXd G = random_matrix(CounterRng(seed, kG), ny, ny, inv_sqrt_ny);
  const Eigen::MatrixXd H = random_matrix(CounterRng(seed, kH), ny, ny, inv_sqrt_ny);
  const Eigen::MatrixXd S =
      config_.mu_shift * Eigen::MatrixXd::Identity(ny, ny) + G * G.transpose();
  M_ = S + config_.skew * (H - H.transpose());
  N_ = random_matrix(CounterRng(seed, kN), ny, nx, 1.0);
  q_ = random_vector(CounterRng(seed, kq), ny, 1.0);
  y_d_ = random_vector(CounterRng(seed, kyd), ny, 0.5);
  x0_ = random_vector(CounterRng(seed, kx0), nx, 0.5);
  // <v, M v> = <v, S v> (K is skew), so mu = lambda_min(S); L = sigma_max(M).
  curvature_.mu = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(S).eigenvalues().minCoeff();
  curvature_.lipschitz = Eigen::JacobiSVD<Eigen::MatrixXd>(M_).singularValues()(0);
}

OwnedVec AffineViBox::create_x() const {
  return create_distributed(comm(), config_.nx);
}
OwnedVec AffineViBox::create_y() const {
  return create_distributed(comm(), config_.ny);
}
void AffineViBox::initial_x(Vec x) const {
  scatter_owned(x0_, x);
}
void AffineViBox::initial_y(Vec, Vec y) const {
  // The box's point nearest the origin: feasible whatever the bounds.
  scatter_owned(Eigen::VectorXd::Zero(config_.ny).cwiseMax(config_.lo).cwiseMin(config_.hi), y);
}

double AffineViBox::evaluate_upper_value(Vec x, Vec y) {
  const Eigen::VectorXd vx = gather_to_all(x), vy = gather_to_all(y);
  return 0.5 * (vy - y_d_).squaredNorm() + 0.5 * config_.alpha * vx.squaredNorm();
}

void AffineViBox::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx) {
    BB_PETSC(VecCopy(x, gx));
    BB_PETSC(VecScale(gx, config_.alpha));
  }
  if (gy)
    scatter_owned(gather_to_all(y) - y_d_, gy);
}

void AffineViBox::evaluate_vi_map(Vec x, Vec y, Vec out) {
  scatter_owned(M_ * gather_to_all(y) + N_ * gather_to_all(x) + q_, out);
}
void AffineViBox::evaluate_vi_jac_y(Vec, Vec, Vec v, Vec out) {
  scatter_owned(M_ * gather_to_all(v), out);
}
void AffineViBox::evaluate_vi_jac_y_transpose(Vec, Vec, Vec v, Vec out) {
  scatter_owned(M_.transpose() * gather_to_all(v), out);
}
void AffineViBox::evaluate_vi_jac_x(Vec, Vec, Vec w, Vec out_y) {
  scatter_owned(N_ * gather_to_all(w), out_y);
}
void AffineViBox::evaluate_vi_jac_x_transpose(Vec, Vec, Vec v, Vec out_x) {
  scatter_owned(N_.transpose() * gather_to_all(v), out_x);
}

AffineViBox::Solution AffineViBox::solve(const Eigen::VectorXd& x) const {
  // Globally convergent natural-map fixed point y <- P(y - F/b) with b = L^2/mu (contraction
  // q = sqrt(1 - mu^2/L^2), docs/algorithms.md §3.4), then a semismooth Newton step on the same
  // equation: with the free set I = {i : lo < (y - F/b)_i < hi} and the rest fixed at their
  // bounds, solve M_II y_I = -(N x + q)_I - M_IA y_A. Once the active set is identified the
  // Newton step is exact, so y* is accurate to rounding rather than to a tolerance.
  const double b = curvature_.lipschitz * curvature_.lipschitz / curvature_.mu;
  const Eigen::VectorXd r = N_ * x + q_;
  auto clamp = [&](const Eigen::VectorXd& u) {
    return Eigen::VectorXd(u.cwiseMax(config_.lo).cwiseMin(config_.hi));
  };
  Eigen::VectorXd y = clamp(Eigen::VectorXd::Zero(config_.ny));
  const double scale = 1.0 + r.norm();
  for (int round = 0; round < kMaxPolishRounds; ++round) {
    for (int t = 0; t < kFixedPointBurst; ++t)
      y = clamp(y - (M_ * y + r) / b);
    const Eigen::VectorXd u = y - (M_ * y + r) / b;
    Solution s;
    for (PetscInt i = 0; i < config_.ny; ++i)
      if (u[i] > config_.lo && u[i] < config_.hi)
        s.free.push_back(i);
    s.y = clamp(u);
    const auto nf = static_cast<Eigen::Index>(s.free.size());
    if (nf > 0) {
      Eigen::MatrixXd m_ff(nf, nf);
      Eigen::VectorXd rhs(nf);
      for (Eigen::Index a = 0; a < nf; ++a) {
        for (Eigen::Index c = 0; c < nf; ++c)
          m_ff(a, c) = M_(s.free[a], s.free[c]);
        s.y[s.free[a]] = 0.0; // rhs = -(r + M y_A)_I with y's free entries zeroed
      }
      const Eigen::VectorXd fixed_part = M_ * s.y + r;
      for (Eigen::Index a = 0; a < nf; ++a)
        rhs[a] = -fixed_part[s.free[a]];
      const Eigen::VectorXd y_free = m_ff.partialPivLu().solve(rhs);
      for (Eigen::Index a = 0; a < nf; ++a)
        s.y[s.free[a]] = y_free[a];
    }
    // Accept when the Newton point is a fixed point of the natural map (i.e. solves the VI).
    if ((s.y - clamp(s.y - (M_ * s.y + r) / b)).norm() <= kSolveTolerance * scale)
      return s;
    y = clamp(s.y);
  }
  throw RuntimeFailure("affine_vi_box: the closed-form solve did not identify the active set");
}

void AffineViBox::exact_hypergradient(Vec x, Vec grad, Vec y_star) {
  // With the free set I of y*(x) and strict complementarity (the active coordinates stay on
  // their bounds under small changes of x), differentiating M_II y_I + M_IA y_A + (N x + q)_I = 0
  // gives the implicit Jacobian (Theorem 5 / eq. 4 at the fixed point)
  //   dy*/dx = -E_I M_II^{-1} N_I    (E_I embeds the free rows; active rows are zero),
  // and grad Phi(x) = alpha x + (dy*/dx)' (y* - y_d) = alpha x - N_I' M_II^{-T} (y* - y_d)_I.
  const Eigen::VectorXd vx = gather_to_all(x);
  const Solution s = solve(vx);
  Eigen::VectorXd g = config_.alpha * vx;
  const auto nf = static_cast<Eigen::Index>(s.free.size());
  if (nf > 0) {
    Eigen::MatrixXd m_ff(nf, nf), n_f(nf, config_.nx);
    Eigen::VectorXd residual(nf);
    for (Eigen::Index a = 0; a < nf; ++a) {
      for (Eigen::Index c = 0; c < nf; ++c)
        m_ff(a, c) = M_(s.free[a], s.free[c]);
      n_f.row(a) = N_.row(s.free[a]);
      residual[a] = s.y[s.free[a]] - y_d_[s.free[a]];
    }
    g -= n_f.transpose() * m_ff.transpose().partialPivLu().solve(residual);
  }
  scatter_owned(g, grad);
  if (y_star)
    scatter_owned(s.y, y_star);
}

void AffineViBox::report_metrics(Vec x, Vec, Record& record) {
  const Solution s = solve(gather_to_all(x));
  record.set("contact_fraction",
             1.0 - static_cast<double>(s.free.size()) / static_cast<double>(config_.ny));
}

} // namespace bilevel
