#pragma once
// StocBiO (Ji, Yang & Liang, ICML 2021; docs/algorithms.md, "Stochastic bilevel solvers"): a
// double loop. Each iteration takes T minibatch SGD steps on g(x, .) from the previous y (warm
// start), then estimates the hypergradient with a Neumann series of Q Hessian products, each on
// its own batch of g (StochasticNeumann::sum), and takes an outer SGD step:
//   v = -eta sum_{q=0}^{Q} prod_{j<q} (I - eta grad^2_yy g_{B_j}) grad_y f_J,
//   x <- x - gamma (grad_x f_J + d_x(grad_y g_I)' v).
// Constant steps, as in the paper's theorem and the reference benchmark.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/stochastic_neumann.hpp"

namespace bilevel {

class Stocbio final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    int inner_steps; ///< T
    NeumannOptions neumann;
    static Config from_options(const RunSpec& run);
  };
  explicit Stocbio(Config config) : StochasticBilevelMethod(config.schedule), config_(config) {}

  std::string name() const override { return "stocbio"; }

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  Config config_;
};

} // namespace bilevel
