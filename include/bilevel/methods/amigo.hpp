#pragma once
// AmIGO (Arbel & Mairal, ICLR 2022; docs/algorithms.md, "Stochastic bilevel solvers"): amortized
// implicit differentiation. Each iteration warm-starts both inner problems from the previous one:
//   T SGD steps on g(x, .) (fresh batch of g each), then with one batch J of f at the new y,
//   T SGD steps on the quadratic 1/2 v' grad^2_yy g v + v' grad_y f_J (fresh batch of g each),
//   D_x = grad_x f_J + grad^2_xy g_I v (a fresh batch I), x <- x - gamma D_x.
// Constant steps by default, as the reference benchmark and the paper's analysis.
#include "bilevel/methods/stochastic_bilevel_method.hpp"

namespace bilevel {

class Amigo final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    int inner_steps; ///< T of both warm-started loops
    static Config from_options(const RunSpec& run);
  };
  explicit Amigo(Config config)
      : StochasticBilevelMethod(config.schedule), inner_steps_(config.inner_steps) {}

  std::string name() const override { return "amigo"; }

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  int inner_steps_;
};

} // namespace bilevel
