#include "bilevel/methods/fsla.hpp"

#include "bilevel/core/options.hpp"

#include <algorithm>

namespace bilevel {

Fsla::Config Fsla::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm fsla");
  // The reference benchmark's FSLA decays every step as 1 / sqrt(k + 1).
  return {Schedule::from_options(run, 0.5, 0.5)};
}

void Fsla::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  momentum_.emplace(x_.size());
  x_previous_ = x_;
}

Fsla::Vector Fsla::hypergradient_sample(const Vector& x, const Vector& y, const Vector& v,
                                        const std::vector<long long>& lower,
                                        const std::vector<long long>& upper) {
  const MinibatchMeans m = oracles().means(
      x, y, {.lower = lower, .upper = upper, .hess_xy = true, .upper_grad_x = true, .v = &v});
  return m.upper_grad_x + m.hess_xy;
}

void Fsla::iterate(double inner_step, double outer_step, Record&) {
  const Vector y_before = y_, v_before = v_;
  const std::vector<long long> lower_y = draw(SampleRole::lower);
  y_ -= inner_step *
        oracles().means(x_, y_, {.lower = lower_y, .upper = {}, .lower_grad_y = true}).lower_grad_y;
  const std::vector<long long> lower_v = draw(SampleRole::lower), upper_v = draw(SampleRole::upper);
  const MinibatchMeans a = oracles().means(
      x_, y_,
      {.lower = lower_v, .upper = upper_v, .hess_yy = true, .upper_grad_y = true, .v = &v_});
  v_ -= inner_step * (a.hess_yy + a.upper_grad_y);
  // The same batches at the new and the previous point; at k = 0 there is no previous point and
  // alpha = 1 makes the direction the sample itself.
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const Vector now = hypergradient_sample(x_, y_, v_, lower, upper);
  const Vector& d =
      iteration() == 0
          ? momentum_->restart(now)
          : momentum_->update(now,
                              hypergradient_sample(x_previous_, y_before, v_before, lower, upper),
                              std::min(1.0, inner_step));
  x_previous_ = x_;
  x_ -= outer_step * d;
}

void Fsla::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  save_replicated(group, "momentum", momentum_->direction());
  save_replicated(group, "x_previous", x_previous_);
}

void Fsla::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  momentum_->direction() = load_replicated(group, "momentum", x_.size());
  x_previous_ = load_replicated(group, "x_previous", x_.size());
}

} // namespace bilevel
