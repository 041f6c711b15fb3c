#include "bilevel/methods/stocbio.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/solvers/stochastic_sgd.hpp"

namespace bilevel {

Stocbio::Config Stocbio::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm stocbio");
  Config c{};
  // Constant steps (decay exponents 0), the paper's and the reference benchmark's.
  c.schedule = Schedule::from_options(run, 0.0, 0.0);
  c.inner_steps = inner_steps_from_options(1, "T: SGD steps on y per iteration");
  c.neumann = NeumannOptions::from_options(c.schedule.step_size, 1);
  return c;
}

void Stocbio::iterate(double inner_step, double outer_step, Record&) {
  const auto lower = [this] { return draw(SampleRole::lower); };
  sgd_lower(
      oracles(), [this](SampleRole role) { return draw(role); }, x_, y_, config_.inner_steps,
      inner_step);
  const std::vector<long long> upper = draw(SampleRole::upper);
  x_ -= outer_step * StochasticNeumann(oracles()).summed_hypergradient(x_, y_, config_.neumann,
                                                                       lower, upper, v_);
}

} // namespace bilevel
