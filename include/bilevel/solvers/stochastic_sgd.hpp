#pragma once
// Warm-started stochastic gradient loops of the double-loop stochastic solvers (docs/algorithms.md,
// "Stochastic bilevel solvers"): T plain SGD steps, each on a fresh minibatch, on the lower
// objective (optionally penalised by the upper one) or on the adjoint's quadratic. AmIGO, F2SA,
// StocBiO, BSA and TTSA run these loops rather than each their own.
#include "bilevel/solvers/minibatch_oracles.hpp"

#include <functional>
#include <vector>

namespace bilevel {

/// The next batch of a role (the caller's draw counters advance).
using DrawBatch = std::function<std::vector<long long>(SampleRole)>;

/// `steps` steps y <- y - step (grad_y g_I(x, y) + upper_weight grad_y f_J(x, y)), fresh batches I
/// of g (and J of f when upper_weight != 0) each step: SGD on g(x, .) + upper_weight f(x, .).
void sgd_lower(MinibatchOracles& oracles, const DrawBatch& draw, const Eigen::VectorXd& x,
               Eigen::VectorXd& y, int steps, double step, double upper_weight = 0.0);

/// `steps` steps v <- v - step (grad^2_yy g_I(x, y) v + b), a fresh batch I of g each step: SGD on
/// the quadratic 1/2 v' grad^2_yy g v + v' b, whose minimiser is -[grad^2_yy g]^{-1} b.
void sgd_adjoint(MinibatchOracles& oracles, const DrawBatch& draw, const Eigen::VectorXd& x,
                 const Eigen::VectorXd& y, const Eigen::VectorXd& b, Eigen::VectorXd& v, int steps,
                 double step);

} // namespace bilevel
