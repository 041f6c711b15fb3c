#pragma once
// BSA (Ghadimi & Wang, 2018; docs/algorithms.md, "Stochastic bilevel solvers"): a double loop.
// Each iteration takes T minibatch SGD steps on g(x, .) from the previous y (warm start), then
// moves x along a hypergradient estimate whose inverse Hessian is one Neumann sample of random
// length p uniform in {0, ..., Q - 1} (StochasticNeumann::sample):
//   v = -Q eta prod_{j<p} (I - eta grad^2_yy g_{B_j}) grad_y f_J,
//   x <- x - alpha_k (grad_x f_J + d_x(grad_y g_I)' v),
// with steps decreasing as (k + 1)^{-1/2}, the rate of its nonconvex analysis. TTSA is this
// iteration with T = 1 and other step decays (Ttsa, a subclass with its own options).
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/stochastic_neumann.hpp"

namespace bilevel {

class Bsa : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    int inner_steps;        ///< T
    NeumannOptions neumann; ///< Q: the truncation (p < Q products), eta
    static Config from_options(const RunSpec& run);
  };
  explicit Bsa(Config config) : StochasticBilevelMethod(config.schedule), config_(config) {}

  std::string name() const override { return "bsa"; }

protected:
  /// T SGD steps on y, then the outer step at (x_k, y_{k+1}); records the series length p as
  /// `neumann_length`.
  void iterate(double inner_step, double outer_step, Record& record) final;

private:
  Config config_;
};

} // namespace bilevel
