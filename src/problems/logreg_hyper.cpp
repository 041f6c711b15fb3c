#include "bilevel/problems/logreg_hyper.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

namespace bilevel {

namespace {
constexpr int kClasses = FashionMnist::kClasses;
using ConstWeights = Eigen::Map<const WeightMatrix>;
} // namespace

LogregHyper::Config LogregHyper::Config::from_options(const RunSpec& run,
                                                      const LogregHyperDefaults& defaults) {
  OptionSection section("problem " + defaults.name);
  Config c{};
  c.name = defaults.name;
  c.data = fashion_mnist_options(defaults.data, run.seed);
  c.scalar_reg = options::get_choice("-problem_reg", defaults.scalar_reg ? "scalar" : "feature",
                                     {"feature", "scalar"},
                                     "one hyperparameter per pixel, or one for all") == "scalar";
  c.x0 = options::get_real("-problem_x0", -6.0, -50.0, 50.0, "initial log-regularisation");
  return c;
}

HyperparamLogreg::Config HyperparamLogreg::Config::from_options(const RunSpec& run) {
  // The IGFM paper's Section 7.2: one scalar log-regularisation, 40 000 / 20 000 / 10 000 samples
  // (the paper's MNIST split, here on Fashion-MNIST), 10 % of the training labels corrupted.
  return {LogregHyper::Config::from_options(
      run, {"hyperparam_logreg",
            {.train = 40000, .validation = 20000, .test = 10000, .corruption = 0.1},
            true})};
}

LogregHyper::LogregHyper(MPI_Comm comm, Config config)
    : ReplicatedProblem(comm), config_(std::move(config)),
      data_(load_fashion_mnist(comm, config_.data)) {}

Eigen::VectorXd LogregHyper::penalty_weights(const Vector& x) const {
  Eigen::VectorXd weights = Eigen::VectorXd::Zero(kFeatures);
  for (int j = 0; j < FashionMnist::kPixels; ++j)
    weights[j] = std::exp(config_.scalar_reg ? x[0] : x[j]);
  return weights;
}

LogregHyper::Vector LogregHyper::regulariser_gradient_x(const Vector& x, const Vector& y) const {
  // d/dx_j exp(x_j) ||y_j||^2 = exp(x_j) ||y_j||^2 (summed over j for a scalar x).
  const ConstWeights w(y.data(), kFeatures, kClasses);
  const Eigen::VectorXd per_feature = penalty_weights(x).cwiseProduct(w.rowwise().squaredNorm());
  return config_.scalar_reg ? Vector::Constant(1, per_feature.sum())
                            : Vector(per_feature.head(FashionMnist::kPixels));
}

WeightMatrix LogregHyper::regulariser_product_y(const Vector& x, const ConstWeights& m) const {
  return 2.0 * penalty_weights(x).asDiagonal() * m;
}

LogregHyper::Vector LogregHyper::reduce(WeightMatrix partial) const {
  Vector out = Eigen::Map<const Vector>(partial.data(), partial.size());
  sum_over_ranks(out);
  return out;
}

double LogregHyper::f(const Vector&, const Vector& y) {
  return sum_over_ranks(
      softmax_loss(data_.validation, ConstWeights(y.data(), kFeatures, kClasses)));
}

void LogregHyper::grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  if (gx)
    *gx = Vector::Zero(x.size());
  if (gy) {
    WeightMatrix grad = WeightMatrix::Zero(kFeatures, kClasses);
    add_softmax_gradient(data_.validation, ConstWeights(y.data(), kFeatures, kClasses), grad);
    *gy = reduce(std::move(grad));
  }
}

double LogregHyper::g(const Vector& x, const Vector& y) {
  const ConstWeights w(y.data(), kFeatures, kClasses);
  const double loss = sum_over_ranks(softmax_loss(data_.train, w));
  return loss + (penalty_weights(x).asDiagonal() * w.rowwise().squaredNorm()).sum();
}

void LogregHyper::expect_lower_trajectory(int points) {
  train_probabilities_.keep_points(points, data_.train.features.rows());
}

void LogregHyper::grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) {
  const ConstWeights w(y.data(), kFeatures, kClasses);
  if (gx)
    *gx = regulariser_gradient_x(x, y);
  if (gy) {
    WeightMatrix grad = WeightMatrix::Zero(kFeatures, kClasses);
    add_softmax_gradient(data_.train, w, grad, nullptr, &train_probabilities_);
    *gy = reduce(std::move(grad));
    Eigen::Map<WeightMatrix>(gy->data(), kFeatures, kClasses) += regulariser_product_y(x, w);
  }
}

LogregHyper::Vector LogregHyper::hess_yy_g(const Vector& x, const Vector& y, const Vector& v) {
  const ConstWeights w(y.data(), kFeatures, kClasses), vm(v.data(), kFeatures, kClasses);
  WeightMatrix out = WeightMatrix::Zero(kFeatures, kClasses);
  add_softmax_hessian_product(data_.train, w, vm, out, nullptr, &train_probabilities_);
  Vector result = reduce(std::move(out));
  Eigen::Map<WeightMatrix>(result.data(), kFeatures, kClasses) += regulariser_product_y(x, vm);
  return result;
}

LogregHyper::Vector LogregHyper::hess_xy_g(const Vector& x, const Vector& y, const Vector& v) {
  // d_x(grad_y g)' v: component j is 2 exp(x_j) <y_j, v_j>.
  const ConstWeights w(y.data(), kFeatures, kClasses), vm(v.data(), kFeatures, kClasses);
  const Eigen::VectorXd per_feature =
      2.0 * penalty_weights(x).cwiseProduct(w.cwiseProduct(vm).rowwise().sum());
  return config_.scalar_reg ? Vector::Constant(1, per_feature.sum())
                            : Vector(per_feature.head(FashionMnist::kPixels));
}

LogregHyper::Vector LogregHyper::hess_yx_g(const Vector& x, const Vector& y, const Vector& w) {
  // d_x(grad_y g) w: row j of the result is 2 exp(x_j) w_j y_j.
  const ConstWeights wm(y.data(), kFeatures, kClasses);
  Eigen::VectorXd scale = 2.0 * penalty_weights(x);
  for (int j = 0; j < FashionMnist::kPixels; ++j)
    scale[j] *= config_.scalar_reg ? w[0] : w[j];
  WeightMatrix out = scale.asDiagonal() * wm;
  return Eigen::Map<const Vector>(out.data(), out.size());
}

void LogregHyper::metrics(const Vector&, const Vector& y, Record& record) {
  const ConstWeights w(y.data(), kFeatures, kClasses);
  const double correct = sum_over_ranks(static_cast<double>(correct_predictions(data_.test, w)));
  record.set("test_accuracy", correct / static_cast<double>(data_.test.global_rows));
  record.set("validation_loss", f(Vector(), y));
}

void LogregHyper::export_data(hid_t group) const {
  export_fashion_mnist_config(group, config_.data);
  h5::write_attribute(group, "regularisation",
                      std::string(config_.scalar_reg ? "scalar" : "feature"));
}

void LogregHyper::sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                                   std::span<const long long> owned, XColumns* gx, Columns* gy) {
  const auto count = static_cast<Eigen::Index>(owned.size());
  const bool lower = role == SampleRole::lower;
  if (gx) {
    // f_j does not depend on x; g_i's x-derivative is its regulariser's, the same for every i.
    *gx = XColumns::dense(lower ? Columns(regulariser_gradient_x(x, y).replicate(1, count))
                                : Columns::Zero(nx(), count));
  }
  if (gy) {
    const ConstWeights w(y.data(), kFeatures, kClasses);
    *gy = softmax_gradient_columns(rows_of(role, owned), w);
    if (lower) {
      const WeightMatrix regulariser = regulariser_product_y(x, w);
      gy->colwise() += Eigen::Map<const Vector>(regulariser.data(), regulariser.size());
    }
  }
}

LogregHyper::Columns LogregHyper::sample_lower_hess_yy(const Vector& x, const Vector& y,
                                                       std::span<const long long> owned,
                                                       const Vector& v) {
  const ConstWeights w(y.data(), kFeatures, kClasses), vm(v.data(), kFeatures, kClasses);
  Columns columns = softmax_hessian_product_columns(rows_of(SampleRole::lower, owned), w, vm);
  const WeightMatrix regulariser = regulariser_product_y(x, vm);
  columns.colwise() += Eigen::Map<const Vector>(regulariser.data(), regulariser.size());
  return columns;
}

XColumns LogregHyper::sample_lower_hess_xy(const Vector& x, const Vector& y,
                                           std::span<const long long> owned, const Vector& v) {
  // The cross-entropy does not depend on x: the cross term is the regulariser's (hess_xy_g,
  // which involves no data and no communication).
  return XColumns::dense(hess_xy_g(x, y, v).replicate(1, static_cast<Eigen::Index>(owned.size())));
}

} // namespace bilevel
