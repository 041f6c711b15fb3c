#include "bilevel/methods/vrbo.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Vrbo::Config Vrbo::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm vrbo");
  Config c{};
  c.schedule = Schedule::from_options(run, 0.0, 0.0);
  c.period_frac = options::get_positive(
      "-alg_period_frac", 128.0,
      "full-batch estimates every (n_inner + n_outer) period_frac / batch_size outer iterations");
  c.inner_steps = inner_steps_from_options(0, "m: the m + 1 inner SPIDER steps");
  c.series = NeumannOptions::from_options(c.schedule.step_size, 0);
  return c;
}

void Vrbo::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  period_ = full_batch_period(period_frac_);
  hypergradient_.emplace(oracles(), series_, /*random_length=*/false);
  d_y_.emplace(y_.size());
  d_x_.emplace(x_.size());
}

void Vrbo::iterate(double inner_step, double outer_step, Record&) {
  if (iteration() % period_ == 0) {
    const std::vector<long long> all_lower = full_batch(SampleRole::lower);
    const std::vector<std::vector<long long>> series(static_cast<std::size_t>(series_.products),
                                                     all_lower);
    const StochasticDirections full =
        hypergradient_->evaluate({{x_, y_}}, all_lower, full_batch(SampleRole::upper), series)[0];
    d_y_->restart(full.y);
    d_x_->restart(full.x);
  }
  Vector x_prev = x_, y_prev = y_;
  x_ -= outer_step * d_x_->direction();
  y_ -= inner_step * d_y_->direction();
  for (int t = 0; t <= inner_steps_; ++t) {
    const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
    std::vector<std::vector<long long>> series;
    for (int j = 0; j < series_.products; ++j)
      series.push_back(draw(SampleRole::lower));
    const std::vector<StochasticDirections> d =
        hypergradient_->evaluate({{x_, y_}, {x_prev, y_prev}}, lower, upper, series);
    d_y_->update(d[0].y, d[1].y, 0.0);
    d_x_->update(d[0].x, d[1].x, 0.0);
    if (t == inner_steps_)
      break;
    x_prev = x_;
    y_prev = y_;
    y_ -= inner_step * d_y_->direction();
  }
}

void Vrbo::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  save_replicated(group, "vrbo_d_y", d_y_->direction());
  save_replicated(group, "vrbo_d_x", d_x_->direction());
}

void Vrbo::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  d_y_->direction() = load_replicated(group, "vrbo_d_y", y_.size());
  d_x_->direction() = load_replicated(group, "vrbo_d_x", x_.size());
}

} // namespace bilevel
