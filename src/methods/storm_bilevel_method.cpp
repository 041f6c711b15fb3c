#include "bilevel/methods/storm_bilevel_method.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

namespace {
// Counter stream of SUSTAIN's random series lengths, apart from the minibatch draws'.
constexpr std::uint64_t kLengthStream = 0x7375'7374'6169'6e00ULL;
} // namespace

StormBilevelMethod::Config StormBilevelMethod::Config::from_options(const RunSpec& run) {
  Config c{};
  // The reference benchmark's (and both theorems') steps: rho_k, gamma_k ~ (k + 1)^(-1/3).
  c.schedule = Schedule::from_options(run, 1.0 / 3.0, 1.0 / 3.0);
  c.momentum = options::get_real("-alg_momentum", 0.5, 0.0, 1.0,
                                 "eta: STORM momentum eta_k = eta / (k + 1)^decay");
  c.momentum_decay = options::get_real("-alg_momentum_decay", 2.0 / 3.0, 0.0, 1.0,
                                       "decay exponent of the STORM momentum eta_k");
  c.series = NeumannOptions::from_options(c.schedule.step_size, 0);
  return c;
}

void StormBilevelMethod::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  hypergradient_.emplace(oracles(), config_.series, random_length_);
  d_y_.emplace(y_.size());
  d_x_.emplace(x_.size());
  x_prev_ = x_;
  y_prev_ = y_;
}

std::vector<std::vector<long long>> StormBilevelMethod::series_batches() {
  int length = config_.series.products;
  if (random_length_) {
    const CounterRng rng(static_cast<std::uint64_t>(schedule().seed), kLengthStream);
    length =
        std::min(length, static_cast<int>(rng.uniform(static_cast<std::uint64_t>(iteration())) *
                                          (length + 1)));
  }
  std::vector<std::vector<long long>> batches;
  for (int j = 0; j < length; ++j)
    batches.push_back(draw(SampleRole::lower));
  return batches;
}

void StormBilevelMethod::iterate(double inner_step, double outer_step, Record&) {
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const std::vector<std::vector<long long>> series = series_batches();
  if (iteration() == 0) {
    const StochasticDirections now = hypergradient_->evaluate({{x_, y_}}, lower, upper, series)[0];
    d_y_->restart(now.y);
    d_x_->restart(now.x);
  } else {
    const std::vector<StochasticDirections> d =
        hypergradient_->evaluate({{x_, y_}, {x_prev_, y_prev_}}, lower, upper, series);
    const double eta =
        config_.momentum / std::pow(static_cast<double>(iteration() + 1), config_.momentum_decay);
    d_y_->update(d[0].y, d[1].y, eta);
    d_x_->update(d[0].x, d[1].x, eta);
  }
  x_prev_ = x_;
  y_prev_ = y_;
  y_ -= inner_step * d_y_->direction();
  x_ -= outer_step * d_x_->direction();
}

void StormBilevelMethod::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  save_replicated(group, "storm_d_y", d_y_->direction());
  save_replicated(group, "storm_d_x", d_x_->direction());
  save_replicated(group, "storm_x_prev", x_prev_);
  save_replicated(group, "storm_y_prev", y_prev_);
}

void StormBilevelMethod::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  d_y_->direction() = load_replicated(group, "storm_d_y", y_.size());
  d_x_->direction() = load_replicated(group, "storm_d_x", x_.size());
  x_prev_ = load_replicated(group, "storm_x_prev", x_.size());
  y_prev_ = load_replicated(group, "storm_y_prev", y_.size());
}

} // namespace bilevel
