#pragma once
// FSLA (Li, Gu & Huang, AAAI 2022; docs/algorithms.md, "Stochastic bilevel solvers"): fully single
// loop. Each iteration takes one SGD step on y, one stochastic step on the adjoint v (a fresh
// batch), and moves x along a recursive momentum (RecursiveEstimate, STORM) of the hypergradient
// sample
//   h(x, y, v; I, J) = grad_x f_J(x, y) + grad^2_xy g_I(x, y) v,
// corrected by the same batches at the previous point:
//   y+ = y - rho_k grad_y g(x, y),  v+ = v - rho_k (grad^2_yy g(x, y+) v + grad_y f(x, y+)),
//   d_k = h(x, y+, v+) + (1 - alpha_k) (d_{k-1} - h(x_prev, y, v)),  x <- x - gamma_k d_k.
// Steps rho_k, gamma_k ~ 1 / sqrt(k + 1) and alpha_k = min(1, rho_k), the reference benchmark's.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/recursive_estimate.hpp"

#include <optional>

namespace bilevel {

class Fsla final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    static Config from_options(const RunSpec& run);
  };
  explicit Fsla(Config config) : StochasticBilevelMethod(config.schedule) {}

  std::string name() const override { return "fsla"; }
  /// Also starts the momentum at zero and the previous x at x0.
  void setup(Problem& problem, Vec x0) override;
  /// The base's state, the momentum direction and the previous x.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  /// h(x, y, v) on the batches (I of g, J of f).
  Vector hypergradient_sample(const Vector& x, const Vector& y, const Vector& v,
                              const std::vector<long long>& lower,
                              const std::vector<long long>& upper);

  std::optional<RecursiveEstimate> momentum_;
  Vector x_previous_;
};

} // namespace bilevel
