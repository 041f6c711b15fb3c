#include "bilevel/problems/ball_layer.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/eigen_dense.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kFeatures = 1, kTruth, kInit };
} // namespace

BallLayer::Config BallLayer::Config::from_options(const RunSpec& run) {
  OptionSection section("problem ball_layer");
  Config c{};
  c.n = options::get_int("-problem_n", 8, 1, 10000, "layer size n");
  c.features = options::get_int("-problem_features", 8, 1, 100000, "feature dimension d");
  c.split = SampleSplit::from_options(128, 32, "samples");
  c.radius = options::get_positive("-problem_radius", 1.0, "radius rho of the ball");
  c.seed = run.seed;
  return c;
}

BallLayer::BallLayer(MPI_Comm comm, Config config)
    : QpLayerProblem(comm, config.split), config_(config), net_({config_.features, config_.n}) {
  const auto seed = static_cast<std::uint64_t>(config_.seed);
  const Eigen::Index n = config_.n, d = config_.features, total = split().train + split().test;
  const CounterRng features(seed, kFeatures), truth(seed, kTruth);
  features_.resize(d, total);
  for (Eigen::Index s = 0; s < total; ++s)
    for (Eigen::Index j = 0; j < d; ++j)
      features_(j, s) = features.normal(static_cast<std::uint64_t>(s * d + j));
  true_model_ = Vector::Zero(nx());
  for (Eigen::Index i = 0; i < n * d; ++i) // W_true; b_true = 0
    true_model_[i] = 2.0 * truth.normal(static_cast<std::uint64_t>(i)) / std::sqrt(double(d));
  for (Eigen::Index i = 0; i < n; ++i)
    true_model_[net_.parameters() + i] = 0.5 * truth.normal(static_cast<std::uint64_t>(n * d + i));
  // The true layer is a projection: its output in closed form, no solver in the data.
  targets_.resize(n, total);
  const Vector centre = true_model_.tail(n);
  for (Eigen::Index s = 0; s < total; ++s) {
    const Vector u = net_.forward(true_model_.head(net_.parameters()), features_.col(s)) - centre;
    targets_.col(s) = centre + u * std::min(1.0, config_.radius / u.norm());
  }
}

BallLayer::Vector BallLayer::initial_model() const {
  Vector x = Vector::Zero(nx()); // centre 0
  x.head(net_.parameters()) =
      net_.initial(CounterRng(static_cast<std::uint64_t>(config_.seed), kInit));
  return x;
}

void BallLayer::initial_x(Vec x) const {
  scatter_owned(initial_model(), x);
}

DenseQp BallLayer::layer(const Vector& x, const Eigen::Ref<const Vector>& phi) const {
  const Eigen::Index n = config_.n;
  const Vector centre = x.tail(n);
  DenseQp qp;
  qp.Q = Eigen::MatrixXd::Identity(n, n);
  qp.q = -net_.forward(x.head(net_.parameters()), phi);
  qp.G.resize(0, n);
  qp.h.resize(0);
  qp.A.resize(0, n);
  qp.b.resize(0);
  qp.quadratic.push_back({Eigen::MatrixXd::Identity(n, n), -centre,
                          0.5 * (config_.radius * config_.radius - centre.squaredNorm())});
  return qp;
}

DenseQp BallLayer::sample_qp(const Vector& x, int sample) const {
  return layer(x, features_.col(sample));
}

double BallLayer::sample_loss(int sample, const Vector& y) const {
  return 0.5 * (y - targets_.col(sample)).squaredNorm();
}

BallLayer::Vector BallLayer::sample_loss_gradient(int sample, const Vector& y) const {
  return y - targets_.col(sample);
}

void BallLayer::add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                                   Vector& grad) const {
  const Eigen::Index n = config_.n, p = net_.parameters();
  Vector net_grad = grad.head(p);
  net_.add_gradient(x.head(p), features_.col(sample), -layer.dq, net_grad); // q = -q_hat
  grad.head(p) = net_grad;
  grad.tail(n) -= layer.dr.row(0).transpose() + x.tail(n) * layer.ds[0];
}

void BallLayer::export_data(hid_t group) const {
  const MPI_Comm c = comm();
  h5::write_matrix(c, group, "features", features_.transpose());
  h5::write_matrix(c, group, "targets", targets_.transpose());
  h5::write_vector(c, group, "true_model", true_model_);
  h5::write_vector(c, group, "x0", initial_model());
  h5::write_attribute(group, "radius", config_.radius);
  h5::write_attribute(group, "train", static_cast<long long>(split().train));
  h5::write_attribute(group, "test", static_cast<long long>(split().test));
}

} // namespace bilevel
