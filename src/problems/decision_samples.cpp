#include "bilevel/problems/decision_samples.hpp"

#include "bilevel/core/counter_rng.hpp"

#include <cmath>

namespace bilevel {

DecisionSamples decision_samples(std::uint64_t seed, Eigen::Index n, Eigen::Index d,
                                 Eigen::Index samples, double noise) {
  const CounterRng cost(seed, 1), map(seed, 2), jitter(seed, 3);
  Eigen::MatrixXd M(d, n);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      M(i, j) = map.normal(static_cast<std::uint64_t>(i * n + j)) / std::sqrt(double(n));
  DecisionSamples out{Eigen::MatrixXd(n, samples), Eigen::MatrixXd(d, samples)};
  for (Eigen::Index s = 0; s < samples; ++s) {
    for (Eigen::Index i = 0; i < n; ++i)
      out.costs(i, s) = cost.uniform(static_cast<std::uint64_t>(s * n + i));
    out.features.col(s) = (M * out.costs.col(s)).array().tanh();
    for (Eigen::Index j = 0; j < d; ++j)
      out.features(j, s) += noise * jitter.uniform(static_cast<std::uint64_t>(s * d + j));
  }
  return out;
}

} // namespace bilevel
