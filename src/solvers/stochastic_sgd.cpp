#include "bilevel/solvers/stochastic_sgd.hpp"

namespace bilevel {

void sgd_lower(MinibatchOracles& oracles, const DrawBatch& draw, const Eigen::VectorXd& x,
               Eigen::VectorXd& y, int steps, double step, double upper_weight) {
  const bool penalised = upper_weight != 0.0;
  for (int t = 0; t < steps; ++t) {
    const std::vector<long long> lower = draw(SampleRole::lower);
    const std::vector<long long> upper =
        penalised ? draw(SampleRole::upper) : std::vector<long long>{};
    const MinibatchMeans d = oracles.means(
        x, y, {.lower = lower, .upper = upper, .lower_grad_y = true, .upper_grad_y = penalised});
    y -= step * d.lower_grad_y;
    if (penalised)
      y -= step * upper_weight * d.upper_grad_y;
  }
}

void sgd_adjoint(MinibatchOracles& oracles, const DrawBatch& draw, const Eigen::VectorXd& x,
                 const Eigen::VectorXd& y, const Eigen::VectorXd& b, Eigen::VectorXd& v, int steps,
                 double step) {
  for (int t = 0; t < steps; ++t) {
    const std::vector<long long> lower = draw(SampleRole::lower);
    const MinibatchMeans d =
        oracles.means(x, y, {.lower = lower, .upper = {}, .hess_yy = true, .v = &v});
    v -= step * (d.hess_yy + b);
  }
}

} // namespace bilevel
