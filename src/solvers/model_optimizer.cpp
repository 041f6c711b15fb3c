#include "bilevel/solvers/model_optimizer.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>
#include <string>

namespace bilevel {

namespace {
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
}

ModelOptimizer::Config ModelOptimizer::Config::from_options(double default_learning_rate) {
  Config c;
  c.adam = options::get_choice("-alg_optimizer", "adam", {"adam", "sgd"},
                               "model update: Adam (beta 0.9, 0.999) or plain SGD") == "adam";
  c.learning_rate = options::get_positive("-alg_lr", default_learning_rate, "learning rate");
  c.clip = options::get_real("-alg_clip", 2.0, 0.0, 1e300,
                             "gradient-norm clipping threshold (0 = none)");
  c.decay = options::get_positive("-alg_lr_decay", 1.0,
                                  "multiply the learning rate by this (at most 1) every "
                                  "-alg_lr_decay_every updates (1 = constant)");
  if (c.decay > 1.0)
    throw InputError("-alg_lr_decay must be at most 1 (a decay), got " + std::to_string(c.decay));
  c.decay_every = options::get_int("-alg_lr_decay_every", 1000, 1, 1000000000,
                                   "updates (minibatches) between learning-rate decays");
  return c;
}

void ModelOptimizer::apply(Eigen::VectorXd& x, Eigen::VectorXd& grad) {
  const double norm = grad.norm();
  if (config_.clip > 0 && norm > config_.clip)
    grad *= config_.clip / norm;
  const double lr = learning_rate();
  ++steps_;
  if (!config_.adam) {
    x -= lr * grad;
    return;
  }
  if (m_.size() != x.size()) {
    m_ = Eigen::VectorXd::Zero(x.size());
    v_ = Eigen::VectorXd::Zero(x.size());
  }
  m_ = kBeta1 * m_ + (1 - kBeta1) * grad;
  v_ = kBeta2 * v_ + (1 - kBeta2) * grad.cwiseAbs2();
  const double c1 = 1 - std::pow(kBeta1, static_cast<double>(steps_));
  const double c2 = 1 - std::pow(kBeta2, static_cast<double>(steps_));
  x.array() -= lr * (m_.array() / c1) / ((v_.array() / c2).sqrt() + kEpsilon);
}

double ModelOptimizer::learning_rate(long long updates) const {
  return config_.learning_rate *
         std::pow(config_.decay, static_cast<double>(updates / config_.decay_every));
}

void ModelOptimizer::save_state(MPI_Comm comm, hid_t group) const {
  h5::write_attribute(group, "optimizer_steps", steps_);
  if (m_.size() == 0)
    return;
  const auto n = static_cast<hsize_t>(m_.size());
  h5::write_dense(comm, group, "adam_m", std::vector<double>(m_.data(), m_.data() + m_.size()), n,
                  0);
  h5::write_dense(comm, group, "adam_v", std::vector<double>(v_.data(), v_.data() + v_.size()), n,
                  0);
}

void ModelOptimizer::load_state(hid_t group) {
  steps_ = h5::read_int_attribute(group, "optimizer_steps");
  if (!h5::exists(group, "adam_m"))
    return;
  const std::vector<double> m = h5::read_all(group, "adam_m"), v = h5::read_all(group, "adam_v");
  m_ = Eigen::Map<const Eigen::VectorXd>(m.data(), static_cast<Eigen::Index>(m.size()));
  v_ = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

} // namespace bilevel
