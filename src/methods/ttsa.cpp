#include "bilevel/methods/ttsa.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Ttsa::Config Ttsa::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm ttsa");
  Config c{};
  // The two time scales of the analysis: y on (k + 1)^{-2/5}, x on the slower
  // (k + 1)^{-3/5}.
  c.schedule = Schedule::from_options(run, 0.4, 0.6);
  c.inner_steps = 1;
  c.neumann = NeumannOptions::from_options(c.schedule.step_size, 1);
  return c;
}

} // namespace bilevel
