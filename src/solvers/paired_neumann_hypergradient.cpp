#include "bilevel/solvers/paired_neumann_hypergradient.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

NeumannSeriesOptions NeumannSeriesOptions::from_options(double default_step) {
  NeumannSeriesOptions o{};
  o.products = static_cast<int>(options::get_int("-alg_neumann_terms", 10, 0, 100000,
                                                 "Q: Hessian products of the Neumann series"));
  o.step = options::get_positive("-alg_neumann_step", default_step,
                                 "eta of the Neumann series (at most 1 / L of grad^2_yy g)");
  return o;
}

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
  const double eta = options_.step;
  // p_q = prod_{j<=q} (I - eta H_j) grad_y f_J; the partial sums add every p_q, the random-length
  // estimate keeps only the last one, scaled by the number of terms it stands for.
  Eigen::VectorXd product = f.upper_grad_y, sum = f.upper_grad_y;
  for (const std::vector<long long>& batch : series) {
    const MinibatchMeans h = oracles_.means(
        point.x, point.y, {.lower = batch, .upper = {}, .hess_yy = true, .v = &product});
    product -= eta * h.hess_yy;
    sum += product;
  }
  const Eigen::VectorXd v = random_length_
                                ? Eigen::VectorXd(-(options_.products + 1) * eta * product)
                                : Eigen::VectorXd(-eta * sum);
  const MinibatchMeans g =
      oracles_.means(point.x, point.y,
                     {.lower = lower, .upper = {}, .lower_grad_y = true, .hess_xy = true, .v = &v});
  return {g.lower_grad_y, f.upper_grad_x + g.hess_xy};
}

} // namespace bilevel
