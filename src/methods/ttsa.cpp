#include "bilevel/methods/ttsa.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/solvers/stochastic_sgd.hpp"

namespace bilevel {

Ttsa::Config Ttsa::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm ttsa");
  Config c{};
  // The two time scales of the analysis: y on (k + 1)^{-2/5}, x on the slower
  // (k + 1)^{-3/5}.
  c.schedule = Schedule::from_options(run, 0.4, 0.6);
  c.neumann = NeumannOptions::from_options(c.schedule.step_size);
  return c;
}

void Ttsa::iterate(double inner_step, double outer_step, Record& record) {
  const auto lower = [this] { return draw(SampleRole::lower); };
  sgd_lower(
      oracles(), [this](SampleRole role) { return draw(role); }, x_, y_, 1, inner_step);
  // The hypergradient at (x_k, y_{k+1}), as in the paper's algorithm.
  const int length =
      StochasticNeumann::random_length(schedule().seed, iteration(), config_.neumann.steps);
  const std::vector<long long> upper = draw(SampleRole::upper);
  x_ -= outer_step * StochasticNeumann(oracles()).sampled_hypergradient(x_, y_, config_.neumann,
                                                                        length, lower, upper, v_);
  record.set("neumann_length", static_cast<double>(length));
}

} // namespace bilevel
