#include "bilevel/methods/amigo.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/solvers/stochastic_sgd.hpp"

namespace bilevel {

Amigo::Config Amigo::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm amigo");
  Config c{};
  // Constant steps: the reference benchmark's, and those of the paper's convergence theorem.
  c.schedule = Schedule::from_options(run, 0.0, 0.0);
  c.inner_steps = inner_steps_from_options(1, "T: SGD steps on y and on v per outer iteration");
  return c;
}

void Amigo::iterate(double inner_step, double outer_step, Record&) {
  const DrawBatch next = [this](SampleRole role) { return draw(role); };
  sgd_lower(oracles(), next, x_, y_, inner_steps_, inner_step);
  const std::vector<long long> upper = draw(SampleRole::upper);
  const MinibatchMeans f = oracles().means(
      x_, y_, {.lower = {}, .upper = upper, .upper_grad_x = true, .upper_grad_y = true});
  sgd_adjoint(oracles(), next, x_, y_, f.upper_grad_y, v_, inner_steps_, inner_step);
  const std::vector<long long> lower = draw(SampleRole::lower);
  const MinibatchMeans cross =
      oracles().means(x_, y_, {.lower = lower, .upper = {}, .hess_xy = true, .v = &v_});
  x_ -= outer_step * (f.upper_grad_x + cross.hess_xy);
}

} // namespace bilevel
