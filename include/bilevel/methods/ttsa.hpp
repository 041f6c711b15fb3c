#pragma once
// TTSA (Hong, Wai, Wang & Yang, SIAM J. Optim. 2023; docs/algorithms.md, "Stochastic bilevel
// solvers"): two time scales in one loop. Each iteration takes one minibatch SGD step on y, then
// moves x along a hypergradient estimate at the new y whose inverse Hessian is one Neumann sample
// of random length p uniform in {0, ..., Q - 1} (StochasticNeumann::sample):
//   y <- y - beta_k grad_y g_B(x, y),
//   v = -Q eta prod_{j<p} (I - eta grad^2_yy g_{B_j}) grad_y f_J,
//   x <- x - alpha_k (grad_x f_J + d_x(grad_y g_I)' v),
// with the decreasing steps of its analysis: beta_k ~ (k + 1)^{-2/5} (inner, the faster scale)
// and alpha_k ~ (k + 1)^{-3/5} (outer). That is BSA's iteration with T = 1: only the options
// and their defaults are TTSA's own.
#include "bilevel/methods/bsa.hpp"

namespace bilevel {

class Ttsa final : public Bsa {
public:
  struct Config : Bsa::Config {
    /// BSA's options without -alg_inner_steps (T = 1), TTSA's step decays.
    static Config from_options(const RunSpec& run);
  };
  explicit Ttsa(const Config& config) : Bsa(config) {}

  std::string name() const override { return "ttsa"; }
};

} // namespace bilevel
