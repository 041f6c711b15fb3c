#include "bilevel/problems/hyperclean.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>

namespace bilevel {

namespace {
constexpr int kClasses = FashionMnist::kClasses;

Eigen::VectorXd sigmoid(const Eigen::VectorXd& t) {
  return (1.0 + (-t.array()).exp()).inverse().matrix();
}
/// sigmoid'(t) = sigmoid(t) (1 - sigmoid(t)).
Eigen::VectorXd sigmoid_derivative(const Eigen::VectorXd& t) {
  const Eigen::ArrayXd s = sigmoid(t).array();
  return (s * (1.0 - s)).matrix();
}
/// The entries x[i] of the batch's samples i, in the batch's order.
Eigen::VectorXd batch_entries(const Eigen::VectorXd& x, std::span<const long long> owned) {
  Eigen::VectorXd entries(static_cast<Eigen::Index>(owned.size()));
  for (std::size_t k = 0; k < owned.size(); ++k)
    entries[static_cast<Eigen::Index>(k)] = x[static_cast<Eigen::Index>(owned[k])];
  return entries;
}

/// The x-derivative columns of a batch's lower samples, each nonzero only in its own sample's
/// entry x_i: column k is values[k] at entry owned[k].
XColumns own_entry_columns(Eigen::Index nx, std::span<const long long> owned,
                           Eigen::VectorXd values) {
  return XColumns::one_entry(nx, std::vector<Eigen::Index>(owned.begin(), owned.end()),
                             std::move(values));
}
} // namespace

Hyperclean::Config Hyperclean::Config::from_options(const RunSpec& run) {
  OptionSection section("problem hyperclean");
  Config c{};
  c.data = fashion_mnist_options({.corruption = 0.25}, run.seed);
  c.lambda = options::get_real("-problem_lambda", 1e-3, 0.0, 1e6, "ridge weight lambda on y");
  c.pca = static_cast<int>(options::get_int("-problem_pca", 0, 0, FashionMnist::kPixels,
                                            "principal components kept (0: all 784 pixels)"));
  c.x0 = options::get_real("-problem_x0", 0.0, -50.0, 50.0,
                           "initial sample weight logit (sigmoid(x0) is the weight)");
  return c;
}

Hyperclean::Hyperclean(MPI_Comm comm, Config config)
    : ReplicatedProblem(comm), config_(std::move(config)),
      data_(load_fashion_mnist(comm, config_.data)), features_(FashionMnist::kPixels + 1) {
  if (config_.pca > 0) {
    pca_ = compute_pca(comm, data_.train, config_.pca);
    for (LabeledRows* rows : {&data_.train, &data_.validation, &data_.test})
      project_rows(*rows, *pca_);
    features_ = config_.pca + 1;
  }
}

Hyperclean::ConstWeights Hyperclean::weights(const Vector& y) const {
  return ConstWeights(y.data(), features_, kClasses);
}

Eigen::VectorXd Hyperclean::local_entries(const Vector& x) const {
  return x.segment(static_cast<Eigen::Index>(data_.train.first_row),
                   static_cast<Eigen::Index>(data_.train.labels.size()));
}

Hyperclean::Vector Hyperclean::gather_samples(const Eigen::VectorXd& local) const {
  // The ranks' row blocks need not match the PETSc layout of x, so assemble the whole vector.
  Vector full = Vector::Zero(nx());
  full.segment(static_cast<Eigen::Index>(data_.train.first_row), local.size()) = local;
  sum_over_ranks(full);
  return full;
}

Hyperclean::Vector Hyperclean::reduce(const WeightMatrix& partial) const {
  Vector out = Eigen::Map<const Vector>(partial.data(), partial.size());
  sum_over_ranks(out);
  return out;
}

double Hyperclean::f(const Vector&, const Vector& y) {
  return sum_over_ranks(softmax_loss(data_.validation, weights(y)));
}

void Hyperclean::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = Vector::Zero(x.size());
  if (gy) {
    WeightMatrix grad = WeightMatrix::Zero(features_, kClasses);
    add_softmax_gradient(data_.validation, weights(y), grad);
    *gy = reduce(grad);
  }
}

double Hyperclean::g(const Vector& x, const Vector& y) {
  const Eigen::VectorXd sample_weights = sigmoid(local_entries(x));
  return sum_over_ranks(softmax_loss(data_.train, weights(y), &sample_weights)) +
         config_.lambda * y.squaredNorm();
}

void Hyperclean::expect_lower_trajectory(int points) {
  train_probabilities_.keep_points(points, data_.train.features.rows());
}

void Hyperclean::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const Eigen::VectorXd local_x = local_entries(x);
  if (gx) {
    // d/dx_i: sigmoid'(x_i) CE_i / N_tr.
    const Eigen::VectorXd per_sample =
        sigmoid_derivative(local_x).cwiseProduct(softmax_sample_losses(data_.train, weights(y))) /
        static_cast<double>(data_.train.global_rows);
    *gx = gather_samples(per_sample);
  }
  if (gy) {
    const Eigen::VectorXd sample_weights = sigmoid(local_x);
    WeightMatrix grad = WeightMatrix::Zero(features_, kClasses);
    add_softmax_gradient(data_.train, weights(y), grad, &sample_weights, &train_probabilities_);
    *gy = reduce(grad) + 2.0 * config_.lambda * y;
  }
}

Hyperclean::Vector Hyperclean::hess_yy_g(const Vector& x, const Vector& y, const Vector& v) {
  const Eigen::VectorXd sample_weights = sigmoid(local_entries(x));
  WeightMatrix out = WeightMatrix::Zero(features_, kClasses);
  add_softmax_hessian_product(data_.train, weights(y), weights(v), out, &sample_weights,
                              &train_probabilities_);
  return reduce(out) + 2.0 * config_.lambda * v;
}

Hyperclean::Vector Hyperclean::hess_xy_g(const Vector& x, const Vector& y, const Vector& v) {
  // Component i: sigmoid'(x_i) / N_tr <d CE_i / dy, v>.
  const Eigen::VectorXd per_sample =
      sigmoid_derivative(local_entries(x))
          .cwiseProduct(softmax_sample_directional(data_.train, weights(y), weights(v))) /
      static_cast<double>(data_.train.global_rows);
  return gather_samples(per_sample);
}

Hyperclean::Vector Hyperclean::hess_yx_g(const Vector& x, const Vector& y, const Vector& w) {
  // sum_i sigmoid'(x_i) w_i / N_tr d CE_i / dy: the CE gradient with those sample weights.
  const Eigen::VectorXd sample_weights =
      sigmoid_derivative(local_entries(x)).cwiseProduct(local_entries(w));
  WeightMatrix out = WeightMatrix::Zero(features_, kClasses);
  add_softmax_gradient(data_.train, weights(y), out, &sample_weights);
  return reduce(out);
}

void Hyperclean::metrics(const Vector& x, const Vector& y, Record& record) {
  const double correct =
      sum_over_ranks(static_cast<double>(correct_predictions(data_.test, weights(y))));
  record.set("test_accuracy", correct / static_cast<double>(data_.test.global_rows));
  record.set("validation_loss", f(x, y));
  // How much of the total sample weight the corrupted samples still carry (0.25 at sigmoid(x)
  // constant for 25 % corruption; cleaning drives it down).
  const Eigen::VectorXd sample_weights = sigmoid(local_entries(x));
  double corrupted = 0.0;
  for (Eigen::Index i = 0; i < sample_weights.size(); ++i)
    if (data_.train.corrupted[static_cast<std::size_t>(i)])
      corrupted += sample_weights[i];
  const double total = sum_over_ranks(sample_weights.sum());
  record.set("corrupted_weight_fraction", sum_over_ranks(corrupted) / total);
}

void Hyperclean::export_data(hid_t group) const {
  export_fashion_mnist_config(group, config_.data);
  h5::write_attribute(group, "lambda", config_.lambda);
  h5::write_attribute(group, "pca_components", static_cast<long long>(config_.pca));
}

void Hyperclean::sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                                  std::span<const long long> owned, XColumns* gx, Columns* gy) {
  const auto count = static_cast<Eigen::Index>(owned.size());
  const LabeledRows batch = rows_of(role, owned);
  if (role == SampleRole::upper) {
    if (gx)
      *gx = XColumns::zero(nx(), count);
    if (gy)
      *gy = softmax_gradient_columns(batch, weights(y));
    return;
  }
  const Eigen::VectorXd batch_x = batch_entries(x, owned);
  if (gx) {
    // d/dx_i sigmoid(x_i) CE_i = sigmoid'(x_i) CE_i, in entry i only.
    *gx = own_entry_columns(
        nx(), owned,
        sigmoid_derivative(batch_x).cwiseProduct(softmax_sample_losses(batch, weights(y))));
  }
  if (gy) {
    *gy = softmax_gradient_columns(batch, weights(y)) * sigmoid(batch_x).asDiagonal();
    gy->colwise() += 2.0 * config_.lambda * y;
  }
}

Hyperclean::Columns Hyperclean::sample_lower_hess_yy(const Vector& x, const Vector& y,
                                                     std::span<const long long> owned,
                                                     const Vector& v) {
  Columns columns =
      softmax_hessian_product_columns(rows_of(SampleRole::lower, owned), weights(y), weights(v)) *
      sigmoid(batch_entries(x, owned)).asDiagonal();
  columns.colwise() += 2.0 * config_.lambda * v;
  return columns;
}

XColumns Hyperclean::sample_lower_hess_xy(const Vector& x, const Vector& y,
                                          std::span<const long long> owned, const Vector& v) {
  // d_x(grad_y g_i)' v = sigmoid'(x_i) <d CE_i / dy, v>, in entry i only.
  const Eigen::VectorXd directional =
      softmax_sample_directional(rows_of(SampleRole::lower, owned), weights(y), weights(v));
  return own_entry_columns(nx(), owned,
                           sigmoid_derivative(batch_entries(x, owned)).cwiseProduct(directional));
}

} // namespace bilevel
