#include "bilevel/solvers/minibatch_sgd.hpp"

namespace bilevel {

void minibatch_sgd(MinibatchOracles& oracles, const Eigen::VectorXd& x, Eigen::VectorXd& y,
                   int steps, double step, const std::function<std::vector<long long>()>& draw) {
  for (int t = 0; t < steps; ++t) {
    const std::vector<long long> batch = draw();
    y -= step *
         oracles.means(x, y, {.lower = batch, .upper = {}, .lower_grad_y = true}).lower_grad_y;
  }
}

} // namespace bilevel
