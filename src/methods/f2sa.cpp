#include "bilevel/methods/f2sa.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/solvers/stochastic_sgd.hpp"

#include <cmath>

namespace bilevel {

F2sa::Config F2sa::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm f2sa");
  Config c{};
  // The exponents of the paper's theorem (Kwon et al. 2023, Thm. 3.1): inner k^(-4/7), outer
  // k^(-5/7); lambda grows as k^(1/7) so that lambda_k times the outer step is the inner step.
  c.schedule = Schedule::from_options(run, 4.0 / 7.0, 5.0 / 7.0);
  c.inner_steps = inner_steps_from_options(1, "T: SGD steps on y and on z per outer iteration");
  c.lambda0 = options::get_positive("-alg_lambda0", 1.0, "lambda_0: the penalty at k = 0");
  c.lambda_exponent = options::get_real("-alg_lambda_exponent", 1.0 / 7.0, 0.0, 1.0,
                                        "c: penalty lambda_k = lambda_0 (k + 1)^c");
  return c;
}

void F2sa::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  z_ = y_;
}

void F2sa::iterate(double inner_step, double outer_step, Record& record) {
  const double lambda = lambda0_ * std::pow(static_cast<double>(iteration() + 1), lambda_exponent_);
  const DrawBatch next = [this](SampleRole role) { return draw(role); };
  sgd_lower(oracles(), next, x_, y_, inner_steps_, inner_step);
  sgd_lower(oracles(), next, x_, z_, inner_steps_, inner_step, 1.0 / lambda);
  // One batch of g for both x-gradients of g: their difference, scaled by lambda, then has the
  // variance of a difference of nearby points, not of two independent batches.
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const MinibatchMeans at_z = oracles().means(
      x_, z_, {.lower = lower, .upper = upper, .lower_grad_x = true, .upper_grad_x = true});
  const MinibatchMeans at_y =
      oracles().means(x_, y_, {.lower = lower, .upper = {}, .lower_grad_x = true});
  x_ -= outer_step * (at_z.upper_grad_x + lambda * (at_z.lower_grad_x - at_y.lower_grad_x));
  record.set("penalty", lambda);
}

void F2sa::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  h5::write_dense(problem().comm(), group, "z",
                  std::vector<double>(z_.data(), z_.data() + z_.size()),
                  static_cast<hsize_t>(z_.size()), 0);
}

void F2sa::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  const std::vector<double> z = h5::read_all(group, "z");
  if (static_cast<Eigen::Index>(z.size()) != y_.size())
    throw InputError("restart file: /state/z has the wrong length");
  z_ = Eigen::Map<const Vector>(z.data(), y_.size());
}

} // namespace bilevel
