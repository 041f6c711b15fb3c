#pragma once
// F2SA (Kwon, Kwon, Wright & Nowak, ICML 2023; docs/algorithms.md, "Stochastic bilevel solvers"):
// fully first order, no Hessian product. With a penalty lambda_k = lambda_0 (k + 1)^c that grows
// over the iterations, y follows SGD on g(x, .) and z SGD on f(x, .) / lambda_k + g(x, .), T
// warm-started steps each with step rho_k; then, with one batch J of f and one I of g,
//   D_x = grad_x f_J(x, z) + lambda_k (grad_x g_I(x, z) - grad_x g_I(x, y)),  x <- x - gamma_k D_x,
// the gradient in x of the penalty Lagrangian f(x, z) + lambda (g(x, z) - g(x, y)). The paper's
// step exponents by default: rho_k ~ k^(-4/7), gamma_k ~ k^(-5/7), lambda_k ~ k^(1/7).
#include "bilevel/methods/stochastic_bilevel_method.hpp"

namespace bilevel {

class F2sa final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    int inner_steps;        ///< T of both loops
    double lambda0;         ///< lambda_0
    double lambda_exponent; ///< c in lambda_k = lambda_0 (k + 1)^c
    static Config from_options(const RunSpec& run);
  };
  explicit F2sa(Config config)
      : StochasticBilevelMethod(config.schedule), inner_steps_(config.inner_steps),
        lambda0_(config.lambda0), lambda_exponent_(config.lambda_exponent) {}

  std::string name() const override { return "f2sa"; }
  /// Also starts z at the initial y.
  void setup(Problem& problem, Vec x0) override;
  /// The base's state and z.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  int inner_steps_;
  double lambda0_, lambda_exponent_;
  Vector z_; ///< the penalised variable: approximately argmin_y f(x, y) / lambda + g(x, y)
};

} // namespace bilevel
