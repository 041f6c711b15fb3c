#include "bilevel/solvers/paired_neumann_hypergradient.hpp"

#include "bilevel/solvers/stochastic_neumann.hpp"

namespace bilevel {

std::vector<StochasticDirections> PairedNeumannHypergradient::evaluate(
    const std::vector<IteratePoint>& points, const std::vector<long long>& lower,
    const std::vector<long long>& upper, const std::vector<std::vector<long long>>& series) const {
  std::vector<StochasticDirections> out;
  out.reserve(points.size());
  for (const IteratePoint& point : points)
    out.push_back(at(point, lower, upper, series));
  return out;
}

StochasticDirections
PairedNeumannHypergradient::at(const IteratePoint& point, const std::vector<long long>& lower,
                               const std::vector<long long>& upper,
                               const std::vector<std::vector<long long>>& series) const {
  const MinibatchMeans f = oracles_.means(
      point.x, point.y, {.lower = {}, .upper = upper, .upper_grad_x = true, .upper_grad_y = true});
  // The series on the given batches, in order: the same at both points of the pair.
  std::size_t next = 0;
  const auto draw = [&] { return series[next++]; };
  StochasticNeumann neumann(oracles_);
  const int products = static_cast<int>(series.size());
  const Eigen::VectorXd v =
      -(random_length_
            ? neumann.sample(point.x, point.y, f.upper_grad_y, products, options_.products + 1,
                             options_.step, draw)
            : neumann.sum(point.x, point.y, f.upper_grad_y, products + 1, options_.step, draw));
  const MinibatchMeans g =
      oracles_.means(point.x, point.y,
                     {.lower = lower, .upper = {}, .lower_grad_y = true, .hess_xy = true, .v = &v});
  return {g.lower_grad_y, f.upper_grad_x + g.hess_xy};
}

} // namespace bilevel
