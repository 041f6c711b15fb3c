#pragma once
// A fully connected network  phi -> W_L tanh(... tanh(W_1 phi + b_1) ...) + b_L  whose parameters
// are one flat vector (the upper-level x of a learning problem): layer by layer, W_l row-major
// (out x in), then b_l. With no hidden layer it is the linear model W phi + b. tanh (not ReLU)
// keeps the map smooth, so central differences of a loss through it have no kinks to straddle.
#include "bilevel/core/counter_rng.hpp"

#include <Eigen/Dense>

#include <vector>

namespace bilevel {

class Mlp {
public:
  using Vector = Eigen::VectorXd;
  /// widths = {input, hidden..., output}: at least input and output.
  explicit Mlp(std::vector<Eigen::Index> widths);

  Eigen::Index parameters() const { return parameters_; }
  /// W_l ~ N(0, 1/in_l) (the scale of PyTorch's default initialisation), b_l = 0; entry i of the
  /// flat vector is draw i of `rng`, so the model does not depend on the rank layout.
  Vector initial(const CounterRng& rng) const;
  Vector forward(const Vector& x, const Eigen::Ref<const Vector>& input) const;
  /// grad += d(output' d_output)/dx at `input` (back-propagation).
  void add_gradient(const Vector& x, const Eigen::Ref<const Vector>& input, const Vector& d_output,
                    Vector& grad) const;

private:
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Index layers() const { return static_cast<Eigen::Index>(widths_.size()) - 1; }
  Eigen::Index in(Eigen::Index l) const { return widths_[static_cast<std::size_t>(l)]; }
  Eigen::Index out(Eigen::Index l) const { return widths_[static_cast<std::size_t>(l) + 1]; }
  /// Where layer l's W starts in the flat vector (its b follows at + out * in).
  Eigen::Index offset(Eigen::Index l) const { return offsets_[static_cast<std::size_t>(l)]; }
  /// Every layer's input (activations[0] = the network's input) and the output.
  std::vector<Vector> activations(const Vector& x, const Eigen::Ref<const Vector>& input) const;

  std::vector<Eigen::Index> widths_, offsets_;
  Eigen::Index parameters_ = 0;
};

} // namespace bilevel
