#include "bilevel/problems/finite_sum_quadratic.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"

#include <cmath>
#include <stdexcept>

namespace bilevel {

namespace {

// Counter streams of the data, one per quantity and sum (lower 0x10.., upper 0x20..).
enum Quantity : std::uint64_t { kCurvature = 1, kLinearY, kLinearX, kCoupling };
std::uint64_t stream(SampleRole role, Quantity quantity) {
  return (role == SampleRole::lower ? 0x1000u : 0x2000u) + quantity;
}

/// Standard deviations whose squares are log-spaced from lo to hi, the reference generator's
/// spread of curvature over coordinates.
Eigen::VectorXd log_spaced_deviations(Eigen::Index n, double lo, double hi) {
  Eigen::VectorXd s(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const double t = n == 1 ? 1.0 : static_cast<double>(k) / static_cast<double>(n - 1);
    s[k] = std::sqrt(lo * std::pow(hi / lo, t));
  }
  return s;
}

/// Column `sample` of a matrix whose entry (k, sample) is deviation[k] * N(0, 1) from `rng`.
void fill_normal_column(Eigen::MatrixXd& m, Eigen::Index column, long long sample,
                        const CounterRng& rng, const Eigen::VectorXd& deviation) {
  const auto rows = m.rows();
  for (Eigen::Index k = 0; k < rows; ++k)
    m(k, column) = deviation[k] * rng.normal(static_cast<std::uint64_t>(sample * rows + k));
}

} // namespace

FiniteSumQuadratic::Config FiniteSumQuadratic::Config::from_options(const RunSpec& run) {
  OptionSection section("problem finite_sum_quadratic");
  Config c{};
  c.n_inner =
      options::get_int("-problem_n_inner", 32768, 1, 2000000000, "samples n of the lower level g");
  c.n_outer =
      options::get_int("-problem_n_outer", 1024, 1, 2000000000, "samples m of the upper level f");
  c.dim_inner = options::get_int("-problem_dim_inner", 100, 1, 100000, "dimension ny of y");
  c.dim_outer = options::get_int("-problem_dim_outer", 10, 1, 100000, "dimension nx of x");
  c.mu = options::get_real("-problem_mu", 0.1, 1e-12, 1e12,
                           "smallest eigenvalue bound of grad^2_yy g (and ridge of f)");
  c.lipschitz = options::get_real("-problem_L", 1.0, 1e-12, 1e12,
                                  "largest eigenvalue of grad^2_yy g (> -problem_mu)");
  if (c.lipschitz <= c.mu)
    throw InputError("-problem_L must exceed -problem_mu");
  c.seed = run.seed;
  return c;
}

FiniteSumQuadratic::FiniteSumQuadratic(MPI_Comm comm, Config config)
    : ReplicatedProblem(comm), config_(config) {
  lower_ = generate(SampleRole::lower);
  upper_ = generate(SampleRole::upper);
  // Scale the a_i (and p_i = B a_i with them) so that the top eigenvalue of H = mu I + mean
  // a_i a_i' is exactly L.
  g_mean_ = mean_of(lower_, config_.n_inner, 0.0, 0.0);
  const double top =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(g_mean_.yy, Eigen::EigenvaluesOnly)
          .eigenvalues()
          .maxCoeff();
  const double scale = std::sqrt((config_.lipschitz - config_.mu) / top);
  lower_.u *= scale;
  lower_.w *= scale;
  g_mean_.xx *= scale * scale;
  g_mean_.xy *= scale * scale;
  g_mean_.yy *= scale * scale;
  g_mean_.yy.diagonal().array() += config_.mu;
  f_mean_ = mean_of(upper_, config_.n_outer, config_.mu, config_.mu);
  h_factor_.compute(g_mean_.yy);
  h_min_eigenvalue_ =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(g_mean_.yy, Eigen::EigenvaluesOnly)
          .eigenvalues()
          .minCoeff();
}

FiniteSumQuadratic::Samples FiniteSumQuadratic::generate(SampleRole role) const {
  const Eigen::Index ny = config_.dim_inner, nx = config_.dim_outer;
  Samples s{local_samples(role), {}, {}, {}, {}};
  const auto count = static_cast<Eigen::Index>(s.range.count);
  s.u.resize(ny, count);
  s.w.resize(nx, count);
  s.lin_y.resize(ny, count);
  s.lin_x.resize(nx, count);
  const CounterRng curvature(config_.seed, stream(role, kCurvature)),
      lin_y(config_.seed, stream(role, kLinearY)), lin_x(config_.seed, stream(role, kLinearX));
  const Eigen::VectorXd spread_y = log_spaced_deviations(ny, config_.mu, config_.lipschitz),
                        ones_y = Eigen::VectorXd::Ones(ny), ones_x = Eigen::VectorXd::Ones(nx);
  // g couples x and y through p_i = B a_i (B fixed, entries N(0, 1/ny)): independent p_i would
  // leave mean p_i a_i' near zero and y* nearly independent of x. f's b_j are independent of its
  // e_j, with the same spread of variances.
  Eigen::MatrixXd coupling(nx, ny);
  if (role == SampleRole::lower) {
    const CounterRng rb(config_.seed, stream(role, kCoupling));
    for (Eigen::Index k = 0; k < coupling.size(); ++k)
      coupling.data()[k] = rb.normal(static_cast<std::uint64_t>(k)) / std::sqrt(double(ny));
  }
  const CounterRng upper_x(config_.seed, stream(role, kCoupling));
  const Eigen::VectorXd spread_x = log_spaced_deviations(nx, config_.mu, config_.lipschitz);
  for (Eigen::Index c = 0; c < count; ++c) {
    const long long sample = s.range.first + c;
    fill_normal_column(s.u, c, sample, curvature, spread_y);
    if (role == SampleRole::lower)
      s.w.col(c) = coupling * s.u.col(c);
    else
      fill_normal_column(s.w, c, sample, upper_x, spread_x);
    fill_normal_column(s.lin_y, c, sample, lin_y, ones_y);
    fill_normal_column(s.lin_x, c, sample, lin_x, ones_x);
  }
  return s;
}

FiniteSumQuadratic::Mean FiniteSumQuadratic::mean_of(const Samples& s, long long count,
                                                     double ridge_x, double ridge_y) const {
  const Eigen::Index ny = config_.dim_inner, nx = config_.dim_outer;
  // The local sums packed in one buffer, reduced once.
  Vector packed(nx * nx + nx * ny + ny * ny + nx + ny);
  Eigen::Map<Eigen::MatrixXd> xx(packed.data(), nx, nx), xy(xx.data() + xx.size(), nx, ny),
      yy(xy.data() + xy.size(), ny, ny);
  Eigen::Map<Vector> lx(yy.data() + yy.size(), nx), ly(lx.data() + nx, ny);
  xx.noalias() = s.w * s.w.transpose();
  xy.noalias() = s.w * s.u.transpose();
  yy.noalias() = s.u * s.u.transpose();
  lx = s.lin_x.rowwise().sum();
  ly = s.lin_y.rowwise().sum();
  logged_allreduce(comm(), packed.data(), static_cast<int>(packed.size()), MPI_SUM);
  packed /= static_cast<double>(count);
  Mean m{xx, xy, yy, lx, ly};
  m.xx.diagonal().array() += ridge_x;
  m.yy.diagonal().array() += ridge_y;
  return m;
}

Curvature FiniteSumQuadratic::lower_curvature(Vec, Vec, CurvatureNeed) {
  return {h_min_eigenvalue_, config_.lipschitz};
}

long long FiniteSumQuadratic::samples(SampleRole role) const {
  return role == SampleRole::lower ? config_.n_inner : config_.n_outer;
}

SampleRange FiniteSumQuadratic::local_samples(SampleRole role) const {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm(), &rank);
  MPI_Comm_size(comm(), &size);
  const long long n = samples(role);
  const long long first = n * rank / size, end = n * (rank + 1) / size;
  return {first, end - first};
}

Eigen::Index FiniteSumQuadratic::local(const Samples& s, long long index) const {
  if (!s.range.owns(index))
    throw std::logic_error("finite_sum_quadratic: sample " + std::to_string(index) +
                           " is not owned by this rank");
  return static_cast<Eigen::Index>(index - s.range.first);
}

void FiniteSumQuadratic::sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                                          std::span<const long long> owned, XColumns* gx,
                                          Columns* gy) {
  const Samples& s = of(role);
  const double ridge_x = role == SampleRole::lower ? 0.0 : config_.mu;
  const auto count = static_cast<Eigen::Index>(owned.size());
  Columns x_columns(gx ? nx() : 0, count);
  if (gy)
    gy->resize(ny(), count);
  for (Eigen::Index k = 0; k < count; ++k) {
    const Eigen::Index c = local(s, owned[static_cast<std::size_t>(k)]);
    const double r = s.u.col(c).dot(y) + s.w.col(c).dot(x);
    if (gx)
      x_columns.col(k) = r * s.w.col(c) + ridge_x * x + s.lin_x.col(c);
    if (gy)
      gy->col(k) = r * s.u.col(c) + config_.mu * y + s.lin_y.col(c);
  }
  if (gx)
    *gx = XColumns::dense(std::move(x_columns));
}

FiniteSumProblem::Columns FiniteSumQuadratic::sample_lower_hess_yy(const Vector&, const Vector&,
                                                                   std::span<const long long> owned,
                                                                   const Vector& v) {
  Columns out(ny(), static_cast<Eigen::Index>(owned.size()));
  for (Eigen::Index k = 0; k < out.cols(); ++k) {
    const Eigen::Index c = local(lower_, owned[static_cast<std::size_t>(k)]);
    out.col(k) = lower_.u.col(c).dot(v) * lower_.u.col(c) + config_.mu * v;
  }
  return out;
}

XColumns FiniteSumQuadratic::sample_lower_hess_xy(const Vector&, const Vector&,
                                                  std::span<const long long> owned,
                                                  const Vector& v) {
  Columns out(nx(), static_cast<Eigen::Index>(owned.size()));
  for (Eigen::Index k = 0; k < out.cols(); ++k) {
    const Eigen::Index c = local(lower_, owned[static_cast<std::size_t>(k)]);
    out.col(k) = lower_.u.col(c).dot(v) * lower_.w.col(c);
  }
  return XColumns::dense(std::move(out));
}

namespace {
double quadratic_value(const Eigen::MatrixXd& xx, const Eigen::MatrixXd& xy,
                       const Eigen::MatrixXd& yy, const Eigen::VectorXd& lx,
                       const Eigen::VectorXd& ly, const Eigen::VectorXd& x,
                       const Eigen::VectorXd& y) {
  return 0.5 * x.dot(xx * x) + x.dot(xy * y) + 0.5 * y.dot(yy * y) + lx.dot(x) + ly.dot(y);
}
} // namespace

double FiniteSumQuadratic::f(const Vector& x, const Vector& y) {
  return quadratic_value(f_mean_.xx, f_mean_.xy, f_mean_.yy, f_mean_.lin_x, f_mean_.lin_y, x, y);
}

void FiniteSumQuadratic::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = f_mean_.xx * x + f_mean_.xy * y + f_mean_.lin_x;
  if (gy)
    *gy = f_mean_.xy.transpose() * x + f_mean_.yy * y + f_mean_.lin_y;
}

double FiniteSumQuadratic::g(const Vector& x, const Vector& y) {
  return quadratic_value(g_mean_.xx, g_mean_.xy, g_mean_.yy, g_mean_.lin_x, g_mean_.lin_y, x, y);
}

void FiniteSumQuadratic::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = g_mean_.xx * x + g_mean_.xy * y + g_mean_.lin_x;
  if (gy)
    *gy = g_mean_.xy.transpose() * x + g_mean_.yy * y + g_mean_.lin_y;
}

FiniteSumQuadratic::Vector FiniteSumQuadratic::hess_yy_g(const Vector&, const Vector&,
                                                         const Vector& v) {
  return g_mean_.yy * v;
}

FiniteSumQuadratic::Vector FiniteSumQuadratic::hess_xy_g(const Vector&, const Vector&,
                                                         const Vector& v) {
  return g_mean_.xy * v;
}

FiniteSumQuadratic::Vector FiniteSumQuadratic::hess_yx_g(const Vector&, const Vector&,
                                                         const Vector& w) {
  return g_mean_.xy.transpose() * w;
}

void FiniteSumQuadratic::exact(const Vector& x, Vector& grad, Vector& y_star) {
  // grad_y g(x, y*) = 0 and grad Phi = grad_x f - grad^2_xy g H^{-1} grad_y f at y*.
  y_star = -h_factor_.solve(g_mean_.xy.transpose() * x + g_mean_.lin_y);
  Vector fx, fy;
  grad_f(x, y_star, &fx, &fy);
  grad = fx - g_mean_.xy * h_factor_.solve(fy);
}

} // namespace bilevel
