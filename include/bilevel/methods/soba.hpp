#pragma once
// SOBA (Dagreou, Ablin, Vaiter & Moreau, NeurIPS 2022; docs/algorithms.md §10.2): one loop of
// simultaneous stochastic steps on y, the adjoint estimate v and x, all three directions from the
// same point and the same two minibatches I (of g) and J (of f):
//   D_y = grad_y g_I,  D_v = grad^2_yy g_I v + grad_y f_J,  D_x = grad^2_xy g_I v + grad_x f_J,
//   y <- y - rho_k D_y,  v <- v - rho_k D_v,  x <- x - gamma_k D_x.
// Decreasing steps by default (rho_k, gamma_k ~ 1 / sqrt(k + 1), the reference benchmark's).
#include "bilevel/methods/stochastic_bilevel_method.hpp"

namespace bilevel {

class Soba final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    static Config from_options(const RunSpec& run);
  };
  explicit Soba(Config config) : StochasticBilevelMethod(config.schedule) {}

  std::string name() const override { return "soba"; }

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;
};

} // namespace bilevel
