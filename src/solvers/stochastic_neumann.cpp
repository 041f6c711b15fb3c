#include "bilevel/solvers/stochastic_neumann.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/options.hpp"

#include <algorithm>

namespace bilevel {

namespace {
// Counter stream of the random series lengths, apart from the minibatch and data streams.
constexpr std::uint64_t kLengthStream = 0x6e65'756d'616e'6e00ULL;
} // namespace

NeumannOptions NeumannOptions::from_options(double default_step, int min_products) {
  NeumannOptions o{};
  o.products = static_cast<int>(
      options::get_int("-alg_neumann_terms", 10, min_products, 1000000,
                       "Q: Hessian products of the Neumann series (the truncation of its length "
                       "where the length is random)"));
  o.step = options::get_positive("-alg_neumann_step", default_step,
                                 "eta of the Neumann series (<= 1/L_g); default -alg_step_size");
  return o;
}

void StochasticNeumann::contract(const Vector& x, const Vector& y, Vector& term, double eta,
                                 const DrawLower& draw) {
  const std::vector<long long> batch = draw();
  term -= eta *
          oracles_.means(x, y, {.lower = batch, .upper = {}, .hess_yy = true, .v = &term}).hess_yy;
}

StochasticNeumann::Vector StochasticNeumann::sum(const Vector& x, const Vector& y, const Vector& b,
                                                 int terms, double eta, const DrawLower& draw) {
  Vector term = b, total = b;
  for (int q = 1; q < terms; ++q) {
    contract(x, y, term, eta, draw);
    total += term;
  }
  return eta * total;
}

StochasticNeumann::Vector StochasticNeumann::sample(const Vector& x, const Vector& y,
                                                    const Vector& b, int length, int terms,
                                                    double eta, const DrawLower& draw) {
  Vector term = b;
  for (int q = 0; q < length; ++q)
    contract(x, y, term, eta, draw);
  return (terms * eta) * term;
}

StochasticNeumann::Vector StochasticNeumann::hypergradient(
    const Vector& x, const Vector& y, const std::function<Vector(const Vector&)>& inverse,
    const DrawLower& draw_lower, const std::vector<long long>& upper, Vector& v) {
  const MinibatchMeans f = oracles_.means(
      x, y, {.lower = {}, .upper = upper, .upper_grad_x = true, .upper_grad_y = true});
  v = -inverse(f.upper_grad_y);
  const std::vector<long long> lower = draw_lower();
  return f.upper_grad_x +
         oracles_.means(x, y, {.lower = lower, .upper = {}, .hess_xy = true, .v = &v}).hess_xy;
}

StochasticNeumann::Vector
StochasticNeumann::summed_hypergradient(const Vector& x, const Vector& y,
                                        const NeumannOptions& options, const DrawLower& draw_lower,
                                        const std::vector<long long>& upper, Vector& v) {
  const auto inverse = [&](const Vector& b) {
    return sum(x, y, b, options.products + 1, options.step, draw_lower);
  };
  return hypergradient(x, y, inverse, draw_lower, upper, v);
}

StochasticNeumann::Vector StochasticNeumann::sampled_hypergradient(
    const Vector& x, const Vector& y, const NeumannOptions& options, int length,
    const DrawLower& draw_lower, const std::vector<long long>& upper, Vector& v) {
  const auto inverse = [&](const Vector& b) {
    return sample(x, y, b, length, options.products, options.step, draw_lower);
  };
  return hypergradient(x, y, inverse, draw_lower, upper, v);
}

int StochasticNeumann::random_length(long long seed, std::uint64_t k, int terms) {
  const CounterRng rng(static_cast<std::uint64_t>(seed), kLengthStream);
  return std::min(terms - 1, static_cast<int>(rng.uniform(k) * terms));
}

} // namespace bilevel
