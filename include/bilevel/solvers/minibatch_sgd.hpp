#pragma once
// Stochastic gradient steps on the lower problem of a finite sum, y <- y - step grad_y g_B(x, y)
// with a fresh batch B each step: the inner loop of the double-loop stochastic solvers (StocBiO,
// BSA; docs/algorithms.md, "Stochastic bilevel solvers"), warm-started from the previous y.
#include "bilevel/solvers/minibatch_oracles.hpp"

#include <functional>
#include <vector>

namespace bilevel {

/// `steps` SGD steps of size `step` on g(x, .) from y, each on the batch `draw()` returns.
void minibatch_sgd(MinibatchOracles& oracles, const Eigen::VectorXd& x, Eigen::VectorXd& y,
                   int steps, double step, const std::function<std::vector<long long>()>& draw);

} // namespace bilevel
