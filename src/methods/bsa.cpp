#include "bilevel/methods/bsa.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/solvers/stochastic_sgd.hpp"

namespace bilevel {

Bsa::Config Bsa::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm bsa");
  Config c{};
  // Both steps decay as (k + 1)^{-1/2}, the reference benchmark's and the order
  // of the outer step in the paper's nonconvex analysis.
  c.schedule = Schedule::from_options(run, 0.5, 0.5);
  c.inner_steps = inner_steps_from_options(1, "T: SGD steps on y per iteration");
  c.neumann = NeumannOptions::from_options(c.schedule.step_size, 1);
  return c;
}

void Bsa::iterate(double inner_step, double outer_step, Record& record) {
  const auto lower = [this] { return draw(SampleRole::lower); };
  sgd_lower(
      oracles(), [this](SampleRole role) { return draw(role); }, x_, y_, config_.inner_steps,
      inner_step);
  // The hypergradient at (x_k, y_{k+1}), as in both papers' algorithms.
  const int length =
      StochasticNeumann::random_length(schedule().seed, iteration(), config_.neumann.products);
  const std::vector<long long> upper = draw(SampleRole::upper);
  x_ -= outer_step * StochasticNeumann(oracles()).sampled_hypergradient(x_, y_, config_.neumann,
                                                                        length, lower, upper, v_);
  record.set("neumann_length", static_cast<double>(length));
}

} // namespace bilevel
