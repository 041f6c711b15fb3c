#include "bilevel/methods/soba.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Soba::Config Soba::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm soba");
  // The reference benchmark's SOBA decays both steps as 1 / sqrt(k + 1).
  return {Schedule::from_options(run, 0.5, 0.5)};
}

void Soba::iterate(double inner_step, double outer_step, Record&) {
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const MinibatchMeans d =
      oracles().means(x_, y_, MinibatchRequest::soba_directions(lower, upper, v_));
  y_ -= inner_step * d.lower_grad_y;
  v_ -= inner_step * (d.hess_yy + d.upper_grad_y);
  x_ -= outer_step * (d.hess_xy + d.upper_grad_x);
}

} // namespace bilevel
