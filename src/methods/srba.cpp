#include "bilevel/methods/srba.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Srba::Config Srba::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm srba");
  Config c{Schedule::from_options(run, 0.0, 0.0), 0.0};
  c.period_frac = options::get_positive(
      "-alg_period_frac", 0.5,
      "full-batch restart every (n_inner + n_outer) period_frac / batch_size iterations");
  return c;
}

void Srba::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  period_ = full_batch_period(period_frac_);
  d_y_.emplace(y_.size());
  d_v_.emplace(y_.size());
  d_x_.emplace(x_.size());
  x_prev_ = x_;
  y_prev_ = y_;
  v_prev_ = v_;
}

Srba::Directions Srba::directions(const Vector& x, const Vector& y, const Vector& v,
                                  const std::vector<long long>& lower,
                                  const std::vector<long long>& upper) {
  const MinibatchMeans m =
      oracles().means(x, y, MinibatchRequest::soba_directions(lower, upper, v));
  return {m.lower_grad_y, m.hess_yy + m.upper_grad_y, m.hess_xy + m.upper_grad_x};
}

void Srba::iterate(double inner_step, double outer_step, Record&) {
  if (iteration() % period_ == 0) {
    const Directions full =
        directions(x_, y_, v_, full_batch(SampleRole::lower), full_batch(SampleRole::upper));
    d_y_->restart(full.y);
    d_v_->restart(full.v);
    d_x_->restart(full.x);
  } else {
    const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
    const Directions now = directions(x_, y_, v_, lower, upper);
    const Directions before = directions(x_prev_, y_prev_, v_prev_, lower, upper);
    d_y_->update(now.y, before.y, 0.0);
    d_v_->update(now.v, before.v, 0.0);
    d_x_->update(now.x, before.x, 0.0);
  }
  x_prev_ = x_;
  y_prev_ = y_;
  v_prev_ = v_;
  y_ -= inner_step * d_y_->direction();
  v_ -= inner_step * d_v_->direction();
  x_ -= outer_step * d_x_->direction();
}

void Srba::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  save_replicated(group, "srba_d_y", d_y_->direction());
  save_replicated(group, "srba_d_v", d_v_->direction());
  save_replicated(group, "srba_d_x", d_x_->direction());
  save_replicated(group, "srba_x_prev", x_prev_);
  save_replicated(group, "srba_y_prev", y_prev_);
  save_replicated(group, "srba_v_prev", v_prev_);
}

void Srba::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  d_y_->direction() = load_replicated(group, "srba_d_y", y_.size());
  d_v_->direction() = load_replicated(group, "srba_d_v", y_.size());
  d_x_->direction() = load_replicated(group, "srba_d_x", x_.size());
  x_prev_ = load_replicated(group, "srba_x_prev", x_.size());
  y_prev_ = load_replicated(group, "srba_y_prev", y_.size());
  v_prev_ = load_replicated(group, "srba_v_prev", y_.size());
}

} // namespace bilevel
