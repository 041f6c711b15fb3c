#pragma once
// TTSA (Hong, Wai, Wang & Yang, SIAM J. Optim. 2023; docs/algorithms.md, "Stochastic bilevel
// solvers"): two time scales in one loop. Each iteration takes one minibatch SGD step on y, then
// moves x along a hypergradient estimate at the new y whose inverse Hessian is one Neumann sample
// of random length p uniform in {0, ..., Q - 1} (StochasticNeumann::sample):
//   y <- y - beta_k grad_y g_B(x, y),
//   v = -Q eta prod_{j<p} (I - eta grad^2_yy g_{B_j}) grad_y f_J,
//   x <- x - alpha_k (grad_x f_J + d_x(grad_y g_I)' v),
// with the decreasing steps of its analysis: beta_k ~ (k + 1)^{-2/5} (inner, the faster scale)
// and alpha_k ~ (k + 1)^{-3/5} (outer).
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/stochastic_neumann.hpp"

namespace bilevel {

class Ttsa final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    NeumannOptions neumann; ///< Q: the truncation (p < Q products), eta
    static Config from_options(const RunSpec& run);
  };
  explicit Ttsa(Config config) : StochasticBilevelMethod(config.schedule), config_(config) {}

  std::string name() const override { return "ttsa"; }

protected:
  /// Records the series length p as `neumann_length`.
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  Config config_;
};

} // namespace bilevel
