#include "bilevel/problems/portfolio_layer.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/eigen_dense.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/decision_samples.hpp"

namespace bilevel {

namespace {
// Streams 1-3 are the data's (decision_samples).
constexpr std::uint64_t kInit = 4, kRisk = 5;
constexpr double kClamp = 10.0;
constexpr Eigen::Index kFactors = 3;
} // namespace

PortfolioLayer::Config PortfolioLayer::Config::from_options(const RunSpec& run) {
  OptionSection section("problem portfolio_layer");
  Config c{};
  c.n = options::get_int("-problem_n", 10, 2, 10000, "number of assets n");
  c.features = options::get_int("-problem_features", 16, 1, 100000, "feature dimension d");
  c.split = SampleSplit::from_options(128, 32, "samples");
  c.noise = options::get_real("-problem_noise", 0.1, 0.0, 1e6, "feature noise scale");
  c.risk = options::get_real("-problem_risk", 1.5, 1.0, 1e6,
                             "risk budget sigma^2 as a multiple of the equal-weight portfolio's "
                             "variance (at least 1: that portfolio stays feasible)");
  c.ridge = options::get_positive("-problem_ridge", 0.1, "ridge rho of the allocation");
  c.seed = run.seed;
  return c;
}

PortfolioLayer::PortfolioLayer(MPI_Comm comm, Config config)
    : QpLayerProblem(comm, config.split), config_(config), net_({config_.features, config_.n}) {
  const auto seed = static_cast<std::uint64_t>(config_.seed);
  DecisionSamples data = decision_samples(seed, config_.n, config_.features,
                                          split().train + split().test, config_.noise);
  returns_ = std::move(data.costs);
  features_ = std::move(data.features);
  // Sigma = F F' + D: factor loadings of size 0.2, idiosyncratic variances in [0.01, 0.05].
  const Eigen::Index n = config_.n;
  const CounterRng risk(seed, kRisk);
  Eigen::MatrixXd F(n, kFactors);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < kFactors; ++j)
      F(i, j) = 0.2 * risk.normal(static_cast<std::uint64_t>(i * kFactors + j));
  sigma_ = F * F.transpose();
  for (Eigen::Index i = 0; i < n; ++i)
    sigma_(i, i) += risk.uniform(static_cast<std::uint64_t>(n * kFactors + i), 0.01, 0.05);
  budget_ = config_.risk * sigma_.sum() / static_cast<double>(n * n);
}

PortfolioLayer::Vector PortfolioLayer::initial_model() const {
  return net_.initial(CounterRng(static_cast<std::uint64_t>(config_.seed), kInit));
}

void PortfolioLayer::initial_x(Vec x) const {
  scatter_owned(initial_model(), x);
}

PortfolioLayer::Vector PortfolioLayer::prediction(const Vector& x, int sample) const {
  return net_.forward(x, features_.col(sample));
}

DenseQp PortfolioLayer::sample_qp(const Vector& x, int sample) const {
  const Eigen::Index n = config_.n;
  DenseQp qp;
  qp.Q = config_.ridge * Eigen::MatrixXd::Identity(n, n);
  qp.q = -prediction(x, sample).cwiseMax(-kClamp).cwiseMin(kClamp);
  qp.G = -Eigen::MatrixXd::Identity(n, n);
  qp.h = Vector::Zero(n);
  qp.A = Eigen::MatrixXd::Ones(1, n);
  qp.b = Vector::Ones(1);
  // y'Sigma y <= sigma^2 as 1/2 y'(2 Sigma)y <= sigma^2.
  qp.quadratic.push_back({2.0 * sigma_, Vector::Zero(n), budget_});
  return qp;
}

double PortfolioLayer::sample_loss(int sample, const Vector& y) const {
  return -returns_.col(sample).dot(y);
}

PortfolioLayer::Vector PortfolioLayer::sample_loss_gradient(int sample, const Vector&) const {
  return -returns_.col(sample);
}

void PortfolioLayer::add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                                        Vector& grad) const {
  // q = -mu_hat; the clamp passes the gradient only where it does not bind.
  const Vector raw = prediction(x, sample);
  const Vector d_mu = (raw.array().abs() < kClamp).select(-layer.dq, 0.0);
  net_.add_gradient(x, features_.col(sample), d_mu, grad);
}

void PortfolioLayer::export_data(hid_t group) const {
  const MPI_Comm c = comm();
  h5::write_matrix(c, group, "returns", returns_.transpose());
  h5::write_matrix(c, group, "features", features_.transpose());
  h5::write_matrix(c, group, "sigma", sigma_);
  h5::write_vector(c, group, "x0", initial_model());
  h5::write_attribute(group, "budget", budget_);
  h5::write_attribute(group, "ridge", config_.ridge);
  h5::write_attribute(group, "train", static_cast<long long>(split().train));
  h5::write_attribute(group, "test", static_cast<long long>(split().test));
  h5::write_attribute(group, "clamp", kClamp);
}

} // namespace bilevel
