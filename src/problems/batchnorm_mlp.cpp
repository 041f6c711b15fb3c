#include "bilevel/problems/batchnorm_mlp.hpp"

#include "bilevel/core/collective_ledger.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bilevel {

namespace {
/// Sums the rows of this rank's block across every rank: one entry per hidden unit.
Eigen::VectorXd reduced_row_sums(const Eigen::MatrixXd& block, MPI_Comm comm) {
  Eigen::VectorXd sums = block.rowwise().sum();
  logged_allreduce(comm, sums.data(), static_cast<int>(sums.size()), MPI_SUM);
  return sums;
}
} // namespace

BatchNormMlp::BatchNormMlp(std::vector<Eigen::Index> widths) : widths_(std::move(widths)) {
  if (widths_.size() < 3)
    throw std::logic_error("BatchNormMlp needs a hidden layer");
  for (Eigen::Index l = 0; l < layers(); ++l) {
    offsets_.push_back(parameters_);
    parameters_ += out(l) * (in(l) + (hidden(l) ? 3 : 1));
  }
  for (Eigen::Index l = 0; l + 1 < layers(); ++l) {
    buffers_.push_back(parameters_);
    parameters_ += 2 * out(l);
  }
}

BatchNormMlp::Vector BatchNormMlp::initial(const CounterRng& rng) const {
  Vector x = Vector::Zero(parameters_);
  for (Eigen::Index l = 0; l < layers(); ++l) {
    const double root = std::sqrt(static_cast<double>(in(l)));
    for (Eigen::Index i = weights(l); i < bias(l); ++i)
      x[i] = rng.normal(static_cast<std::uint64_t>(i)) / root;
    if (hidden(l)) {
      x.segment(gamma(l), out(l)).setOnes();
      x.segment(running_variance(l), out(l)).setOnes();
    }
  }
  return x;
}

BatchNormMlp::Pass BatchNormMlp::run(const Vector& x, const Matrix& inputs, Statistics statistics,
                                     MPI_Comm comm) const {
  Pass pass;
  if (statistics == Statistics::minibatch) {
    pass.samples = static_cast<double>(inputs.cols());
    logged_allreduce(comm, &pass.samples, 1, MPI_SUM);
  }
  pass.inputs.push_back(inputs);
  for (Eigen::Index l = 0; l < layers(); ++l) {
    const Eigen::Map<const RowMajor> W(x.data() + weights(l), out(l), in(l));
    Matrix z = W * pass.inputs.back();
    z.colwise() += x.segment(bias(l), out(l));
    if (!hidden(l)) {
      pass.inputs.push_back(std::move(z));
      break;
    }
    Vector mean, variance;
    if (statistics == Statistics::minibatch) {
      // Two passes (mean, then the centred squares) for accuracy; biased variance, as PyTorch
      // normalises.
      mean = reduced_row_sums(z, comm) / pass.samples;
      z.colwise() -= mean;
      variance = reduced_row_sums(z.array().square().matrix(), comm) / pass.samples;
    } else {
      mean = x.segment(running_mean(l), out(l));
      variance = x.segment(running_variance(l), out(l));
      z.colwise() -= mean;
    }
    const Vector inverse_std = (variance.array() + kEpsilon).rsqrt();
    Matrix normalised = z.array().colwise() * inverse_std.array();
    Matrix activation =
        (normalised.array().colwise() * x.segment(gamma(l), out(l)).array()).colwise() +
        x.segment(beta(l), out(l)).array();
    pass.inputs.push_back(activation.cwiseMax(0.0));
    pass.normalised.push_back(std::move(normalised));
    pass.inverse_std.push_back(inverse_std);
    pass.mean.push_back(std::move(mean));
    pass.variance.push_back(std::move(variance));
  }
  return pass;
}

BatchNormMlp::Matrix BatchNormMlp::forward(const Vector& x, const Matrix& inputs,
                                           Statistics statistics, MPI_Comm comm) const {
  return run(x, inputs, statistics, comm).inputs.back();
}

BatchNormMlp::Matrix BatchNormMlp::training_forward(Vector& x, const Matrix& inputs,
                                                    MPI_Comm comm) const {
  Pass pass = run(x, inputs, Statistics::minibatch, comm);
  // The running variance takes the unbiased estimate (PyTorch; a minibatch of one sample has
  // none, and PyTorch refuses it in training mode).
  const double unbiased = pass.samples / std::max(1.0, pass.samples - 1.0);
  for (Eigen::Index l = 0; l + 1 < layers(); ++l) {
    const auto k = static_cast<std::size_t>(l);
    auto mean = x.segment(running_mean(l), out(l));
    auto variance = x.segment(running_variance(l), out(l));
    mean = (1 - kMomentum) * mean + kMomentum * pass.mean[k];
    variance = (1 - kMomentum) * variance + kMomentum * unbiased * pass.variance[k];
  }
  return std::move(pass.inputs.back());
}

void BatchNormMlp::add_gradient(const Vector& x, const Matrix& inputs, const Matrix& d_output,
                                Statistics statistics, MPI_Comm comm, Vector& grad) const {
  const Pass pass = run(x, inputs, statistics, comm);
  Matrix delta = d_output; // d/d(the current layer's Linear output), one column per sample
  for (Eigen::Index l = layers() - 1; l >= 0; --l) {
    const auto k = static_cast<std::size_t>(l);
    if (hidden(l)) {
      // delta is d/d(activation): through the ReLU, then gamma and beta, then the normalisation.
      delta = (pass.inputs[k + 1].array() > 0.0).select(delta.array(), 0.0);
      const Matrix& normalised = pass.normalised[k];
      grad.segment(gamma(l), out(l)) += delta.cwiseProduct(normalised).rowwise().sum();
      grad.segment(beta(l), out(l)) += delta.rowwise().sum();
      delta = delta.array().colwise() * x.segment(gamma(l), out(l)).array();
      if (statistics == Statistics::minibatch) {
        // Every sample's normalised value depends on the whole minibatch through its mean and
        // variance: dz = (d - mean(d) - n * mean(d * n)) / sqrt(var + eps), means over the
        // minibatch on every rank.
        const Vector mean_d = reduced_row_sums(delta, comm) / pass.samples;
        const Vector mean_dn =
            reduced_row_sums(delta.cwiseProduct(normalised), comm) / pass.samples;
        delta = (delta.colwise() - mean_d) - Matrix(normalised.array().colwise() * mean_dn.array());
      }
      delta = delta.array().colwise() * pass.inverse_std[k].array();
    }
    Eigen::Map<RowMajor> dW(grad.data() + weights(l), out(l), in(l));
    dW.noalias() += delta * pass.inputs[k].transpose();
    grad.segment(bias(l), out(l)) += delta.rowwise().sum();
    if (l == 0)
      break;
    const Eigen::Map<const RowMajor> W(x.data() + weights(l), out(l), in(l));
    delta = W.transpose() * delta;
  }
}

} // namespace bilevel
