#include "bilevel/problems/mlp.hpp"

#include <cmath>

namespace bilevel {

Mlp::Mlp(std::vector<Eigen::Index> widths) : widths_(std::move(widths)) {
  for (Eigen::Index l = 0; l < layers(); ++l) {
    offsets_.push_back(parameters_);
    parameters_ += out(l) * (in(l) + 1);
  }
}

Mlp::Vector Mlp::initial(const CounterRng& rng) const {
  Vector x = Vector::Zero(parameters_);
  for (Eigen::Index l = 0; l < layers(); ++l) {
    const double root = std::sqrt(static_cast<double>(in(l)));
    for (Eigen::Index i = offset(l); i < offset(l) + out(l) * in(l); ++i)
      x[i] = rng.normal(static_cast<std::uint64_t>(i)) / root;
  }
  return x;
}

std::vector<Mlp::Vector> Mlp::activations(const Vector& x,
                                          const Eigen::Ref<const Vector>& input) const {
  std::vector<Vector> a{input};
  for (Eigen::Index l = 0; l < layers(); ++l) {
    const Eigen::Map<const RowMajor> W(x.data() + offset(l), out(l), in(l));
    Vector z = W * a.back() + x.segment(offset(l) + out(l) * in(l), out(l));
    if (l + 1 < layers())
      z = z.array().tanh();
    a.push_back(std::move(z));
  }
  return a;
}

Mlp::Vector Mlp::forward(const Vector& x, const Eigen::Ref<const Vector>& input) const {
  return activations(x, input).back();
}

void Mlp::add_gradient(const Vector& x, const Eigen::Ref<const Vector>& input,
                       const Vector& d_output, Vector& grad) const {
  const std::vector<Vector> a = activations(x, input);
  Vector delta = d_output; // d/d(pre-activation) of the current layer
  for (Eigen::Index l = layers() - 1; l >= 0; --l) {
    const auto& below = a[static_cast<std::size_t>(l)];
    Eigen::Map<RowMajor> dW(grad.data() + offset(l), out(l), in(l));
    dW.noalias() += delta * below.transpose();
    grad.segment(offset(l) + out(l) * in(l), out(l)) += delta;
    if (l == 0)
      break;
    const Eigen::Map<const RowMajor> W(x.data() + offset(l), out(l), in(l));
    // below = tanh(z), tanh' = 1 - tanh^2.
    delta = (W.transpose() * delta).cwiseProduct((1.0 - below.array().square()).matrix());
  }
}

} // namespace bilevel
