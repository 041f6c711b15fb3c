#include "bilevel/problems/dfl_qp.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/eigen_dense.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/decision_samples.hpp"

#include <cmath>

namespace bilevel {

namespace {
// Streams 1-3 are the data's (decision_samples).
constexpr std::uint64_t kInit = 4;
constexpr double kClamp = 10.0;

std::vector<Eigen::Index> widths(const DflQp::Config& c) {
  if (c.batchnorm)
    return {c.features, c.hidden, c.hidden, c.n};
  if (c.hidden == 0)
    return {c.features, c.n};
  return {c.features, c.hidden, c.n};
}

/// The clamp passes the gradient only where it does not bind.
Eigen::VectorXd through_clamp(const Eigen::VectorXd& raw, const Eigen::VectorXd& dq) {
  return (raw.array().abs() < kClamp).select(dq, 0.0);
}
} // namespace

DflQp::Config DflQp::Config::from_options(const RunSpec& run) {
  OptionSection section("problem dfl_qp");
  Config c{};
  c.n = options::get_int("-problem_n", 20, 1, 100000, "QP size n (2n + 1 inequalities)");
  c.features = options::get_int("-problem_features", 16, 1, 100000, "feature dimension d");
  c.split = SampleSplit::from_options(256, 64, "samples");
  const std::string model =
      options::get_choice("-problem_model", "linear", {"linear", "mlp", "batchnorm"},
                          "predictor of q: linear W phi + b, an MLP with one tanh hidden layer, "
                          "or the paper's two hidden layers of Linear + BatchNorm + ReLU");
  c.batchnorm = model == "batchnorm";
  c.hidden = options::get_int("-problem_hidden", c.batchnorm ? 128 : 32, 1, 100000,
                              "hidden width of -problem_model mlp or batchnorm");
  if (model == "linear") {
    if (options::given("-problem_hidden"))
      throw InputError("-problem_hidden applies to -problem_model mlp or batchnorm only; "
                       "accepted: -problem_model mlp -problem_hidden H");
    c.hidden = 0;
  }
  if (c.batchnorm && c.split.batch < 2)
    throw InputError("-problem_batch " + std::to_string(c.split.batch) +
                     ": accepted: at least 2 with -problem_model batchnorm (it normalises by "
                     "the minibatch's variance)");
  c.noise = options::get_real("-problem_noise", 0.1, 0.0, 1e6, "feature noise scale");
  c.seed = run.seed;
  return c;
}

DflQp::DflQp(MPI_Comm comm, Config config) : QpLayerProblem(comm, config.split), config_(config) {
  if (config_.batchnorm)
    batchnorm_.emplace(widths(config_));
  else
    net_.emplace(widths(config_));
  DecisionSamples data =
      decision_samples(static_cast<std::uint64_t>(config_.seed), config_.n, config_.features,
                       split().train + split().test, config_.noise);
  costs_ = std::move(data.costs);
  features_ = std::move(data.features);
}

PetscInt DflQp::nx() const {
  return net_ ? net_->parameters() : batchnorm_->parameters();
}

DflQp::Vector DflQp::initial_model() const {
  const CounterRng rng(static_cast<std::uint64_t>(config_.seed), kInit);
  return net_ ? net_->initial(rng) : batchnorm_->initial(rng);
}

void DflQp::initial_x(Vec x) const {
  scatter_owned(initial_model(), x);
}

DflQp::Vector DflQp::prediction(const Vector& x, int sample) const {
  if (net_)
    return net_->forward(x, features_.col(sample));
  return batchnorm_->forward(x, features_.col(sample), BatchNormMlp::Statistics::running, comm());
}

Eigen::MatrixXd DflQp::features_of(const std::vector<int>& samples) const {
  Eigen::MatrixXd out(features_.rows(), static_cast<Eigen::Index>(samples.size()));
  for (std::size_t k = 0; k < samples.size(); ++k)
    out.col(static_cast<Eigen::Index>(k)) = features_.col(samples[k]);
  return out;
}

DenseQp DflQp::qp_for(const Vector& raw) const {
  DenseQp qp = constraints();
  qp.q = raw.cwiseMax(-kClamp).cwiseMin(kClamp);
  return qp;
}

DenseQp DflQp::sample_qp(const Vector& x, int sample) const {
  return qp_for(prediction(x, sample));
}

DenseQp DflQp::constraints() const {
  const Eigen::Index n = config_.n;
  DenseQp qp;
  qp.Q = Eigen::MatrixXd::Identity(n, n);
  qp.G.resize(2 * n + 1, n);
  qp.G << Eigen::MatrixXd::Identity(n, n), -Eigen::MatrixXd::Identity(n, n),
      Eigen::RowVectorXd::Ones(n);
  qp.h.resize(2 * n + 1);
  qp.h << Vector::Zero(n), Vector::Ones(n), 3.0;
  qp.A.resize(0, n);
  qp.b.resize(0);
  return qp;
}

double DflQp::sample_loss(int sample, const Vector& y) const {
  return costs_.col(sample).dot(y) / static_cast<double>(config_.n);
}

DflQp::Vector DflQp::sample_loss_gradient(int sample, const Vector&) const {
  return costs_.col(sample) / static_cast<double>(config_.n);
}

void DflQp::add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                               Vector& grad) const {
  const Vector dq = through_clamp(prediction(x, sample), layer.dq);
  if (net_)
    net_->add_gradient(x, features_.col(sample), dq, grad);
  else
    batchnorm_->add_gradient(x, features_.col(sample), dq, BatchNormMlp::Statistics::running,
                             comm(), grad);
}

void DflQp::forward_training_batch(Vector& model, const std::vector<int>& local) {
  if (batchnorm_)
    training_outputs_ = batchnorm_->training_forward(model, features_of(local), comm());
}

DenseQp DflQp::training_qp(const Vector& model, const std::vector<int>& local,
                           std::size_t k) const {
  if (net_)
    return QpLayerProblem::training_qp(model, local, k);
  return qp_for(training_outputs_.col(static_cast<Eigen::Index>(k)));
}

void DflQp::add_training_gradient(const Vector& model, const std::vector<int>& local,
                                  const std::vector<QpLayerGradient>& layers, Vector& grad) const {
  if (net_) {
    QpLayerProblem::add_training_gradient(model, local, layers, grad);
    return;
  }
  const Eigen::MatrixXd inputs = features_of(local);
  const Eigen::MatrixXd raw =
      batchnorm_->forward(model, inputs, BatchNormMlp::Statistics::minibatch, comm());
  Eigen::MatrixXd dq(raw.rows(), raw.cols());
  for (Eigen::Index k = 0; k < raw.cols(); ++k)
    dq.col(k) = through_clamp(raw.col(k), layers[static_cast<std::size_t>(k)].dq);
  batchnorm_->add_gradient(model, inputs, dq, BatchNormMlp::Statistics::minibatch, comm(), grad);
}

double DflQp::lower_residual(Vec x, Vec y) {
  // The minibatch's QPs as training builds them (BatchNorm: normalised by the minibatch, not by
  // the running statistics); the copy's moved running statistics are dropped.
  Vector model = gather_to_all(x);
  const std::vector<int> samples = current_batch();
  int begin = 0, end = 0;
  local_block(begin, end);
  const std::vector<int> local(samples.begin() + begin, samples.begin() + end);
  forward_training_batch(model, local);
  std::size_t k = 0; // sum_over_batch visits this rank's samples in order
  return std::sqrt(
      sum_over_batch(x, y, [&](const Vector&, int, const Eigen::Ref<const Vector>& ys) {
        const Vector q = training_qp(model, local, k++).q;
        return (ys - (ys - (ys + q)).cwiseMax(-1.0).cwiseMin(0.0)).squaredNorm();
      }));
}

void DflQp::export_data(hid_t group) const {
  const MPI_Comm c = comm();
  // Sample-major (one row per sample): the first `train` rows are the training split.
  h5::write_matrix(c, group, "costs", costs_.transpose());
  h5::write_matrix(c, group, "features", features_.transpose());
  const DenseQp qp = constraints();
  h5::write_matrix(c, group, "G", qp.G);
  h5::write_vector(c, group, "h", qp.h);
  h5::write_vector(c, group, "x0", initial_model());
  h5::write_attribute(group, "train", static_cast<long long>(split().train));
  h5::write_attribute(group, "test", static_cast<long long>(split().test));
  h5::write_attribute(group, "model",
                      std::string(config_.batchnorm     ? "batchnorm"
                                  : config_.hidden == 0 ? "linear"
                                                        : "mlp"));
  h5::write_attribute(group, "hidden", static_cast<long long>(config_.hidden));
  h5::write_attribute(group, "clamp", kClamp);
}

} // namespace bilevel
