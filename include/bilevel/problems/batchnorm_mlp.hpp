#pragma once
// A fully connected network whose hidden layers are Linear -> BatchNorm -> ReLU and whose output
// layer is Linear (the FFO-layer paper's decision-focused predictor, 640 -> 128 -> 128 -> n), as
// PyTorch's nn.BatchNorm1d computes it: in training mode each hidden unit is normalised by the
// mean and biased variance of the whole minibatch, and the running statistics move by momentum
// 0.1 towards that mean and the unbiased variance; in evaluation mode the running statistics
// normalise. The minibatch may be split across the ranks of a communicator: its statistics, and
// the sums the backward pass needs, are reduced over them, so the model does not depend on the
// rank layout. x is one flat vector: per hidden layer W (out x in, row-major), b, gamma, beta;
// then the output layer's W, b; then per hidden layer the running mean and variance (buffers:
// they take no gradient, the training forward pass updates them).
#include "bilevel/core/counter_rng.hpp"

#include <Eigen/Dense>
#include <mpi.h>

#include <vector>

namespace bilevel {

class BatchNormMlp {
public:
  using Vector = Eigen::VectorXd;
  using Matrix = Eigen::MatrixXd;
  /// Which statistics normalise: the minibatch's (training mode) or the running ones.
  enum class Statistics { minibatch, running };
  static constexpr double kEpsilon = 1e-5, kMomentum = 0.1; // PyTorch's defaults

  /// widths = {input, hidden..., output}: at least one hidden layer.
  explicit BatchNormMlp(std::vector<Eigen::Index> widths);

  Eigen::Index parameters() const { return parameters_; } ///< including the buffers
  /// W ~ N(0, 1/in) (entry i of x is draw i of `rng`), b = 0, gamma = 1, beta = 0, running
  /// mean 0 and variance 1 (PyTorch's initial buffers).
  Vector initial(const CounterRng& rng) const;
  /// The outputs of this rank's samples `inputs` (one column each). With Statistics::minibatch
  /// the minibatch is every rank's columns together and the call is collective over `comm`.
  Matrix forward(const Vector& x, const Matrix& inputs, Statistics statistics, MPI_Comm comm) const;
  /// forward in training mode that also moves x's running statistics (collective).
  Matrix training_forward(Vector& x, const Matrix& inputs, MPI_Comm comm) const;
  /// grad += this rank's share of d(sum over the minibatch of <output, d_output>)/dx, with
  /// d_output one column per sample of `inputs` (collective with Statistics::minibatch).
  void add_gradient(const Vector& x, const Matrix& inputs, const Matrix& d_output,
                    Statistics statistics, MPI_Comm comm, Vector& grad) const;

private:
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  /// What a forward pass leaves for the backward pass and the running statistics.
  struct Pass {
    std::vector<Matrix> inputs;     ///< each layer's input; the last entry is the output
    std::vector<Matrix> normalised; ///< each hidden layer's (z - mean) / sqrt(var + eps)
    std::vector<Vector> inverse_std, mean, variance; ///< per hidden layer
    double samples = 0;                              ///< the minibatch size over every rank
  };
  Pass run(const Vector& x, const Matrix& inputs, Statistics statistics, MPI_Comm comm) const;

  Eigen::Index layers() const { return static_cast<Eigen::Index>(widths_.size()) - 1; }
  Eigen::Index in(Eigen::Index l) const { return widths_[static_cast<std::size_t>(l)]; }
  Eigen::Index out(Eigen::Index l) const { return widths_[static_cast<std::size_t>(l) + 1]; }
  bool hidden(Eigen::Index l) const { return l + 1 < layers(); }
  // Where layer l's blocks start in x (b, gamma, beta follow W, each of length out(l)).
  Eigen::Index weights(Eigen::Index l) const { return offsets_[static_cast<std::size_t>(l)]; }
  Eigen::Index bias(Eigen::Index l) const { return weights(l) + out(l) * in(l); }
  Eigen::Index gamma(Eigen::Index l) const { return bias(l) + out(l); }
  Eigen::Index beta(Eigen::Index l) const { return gamma(l) + out(l); }
  Eigen::Index running_mean(Eigen::Index l) const { return buffers_[static_cast<std::size_t>(l)]; }
  Eigen::Index running_variance(Eigen::Index l) const { return running_mean(l) + out(l); }

  std::vector<Eigen::Index> widths_, offsets_, buffers_;
  Eigen::Index parameters_ = 0;
};

} // namespace bilevel
