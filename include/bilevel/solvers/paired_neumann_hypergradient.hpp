#pragma once
// The Neumann-series hypergradient estimate of the recursive stochastic solvers (MRBO, VRBO,
// SUSTAIN; docs/algorithms.md, "Stochastic bilevel solvers"), evaluated at a pair of points -- the
// current (x_k, y_k) and the previous (x_{k-1}, y_{k-1}) -- on the same batches, as their
// recursive estimates (RecursiveEstimate) need. At each point, with I a batch of g, J a batch of f
// and B_1, B_2, ... the series' batches of g:
//   D_y = grad_y g_I,   D_x = grad_x f_J + d_x(grad_y g_I)' v,
//   v = -eta sum_{q=0}^{Q} prod_{j<=q} (I - eta grad^2_yy g_{B_j}) grad_y f_J   (partial sums, MRBO
//       and VRBO: Q Hessian products), or
//   v = -(Q + 1) eta prod_{j<=p} (I - eta grad^2_yy g_{B_j}) grad_y f_J       (one product of a
//       random length p in {0, ..., Q}, SUSTAIN's, after Ghadimi & Wang),
// both estimates of -[grad^2_yy g]^{-1} grad_y f truncated after Q + 1 terms (eta <= 1 / L_g):
// StochasticNeumann's sum() and sample(), here on batches drawn once for both points.
#include "bilevel/solvers/minibatch_oracles.hpp"
#include "bilevel/solvers/stochastic_neumann.hpp"

#include <vector>

namespace bilevel {

/// The two directions at one point.
struct StochasticDirections {
  Eigen::VectorXd y; ///< grad_y g_I
  Eigen::VectorXd x; ///< the hypergradient estimate D_x
};

/// One point (x, y) of the pair.
struct IteratePoint {
  const Eigen::VectorXd& x;
  const Eigen::VectorXd& y;
};

class PairedNeumannHypergradient {
public:
  /// `random_length`: SUSTAIN's single product of random length instead of the partial sums.
  PairedNeumannHypergradient(MinibatchOracles& oracles, NeumannOptions options, bool random_length)
      : oracles_(oracles), options_(options), random_length_(random_length) {}

  /// The directions at every point of `points`, all on the batches `lower` (I), `upper` (J)
  /// and `series` (B_1, B_2, ...: Q batches for the partial sums, p for a random length p).
  std::vector<StochasticDirections>
  evaluate(const std::vector<IteratePoint>& points, const std::vector<long long>& lower,
           const std::vector<long long>& upper,
           const std::vector<std::vector<long long>>& series) const;

  const NeumannOptions& options() const { return options_; }
  bool random_length() const { return random_length_; }

private:
  StochasticDirections at(const IteratePoint& point, const std::vector<long long>& lower,
                          const std::vector<long long>& upper,
                          const std::vector<std::vector<long long>>& series) const;

  MinibatchOracles& oracles_;
  NeumannOptions options_;
  bool random_length_;
};

} // namespace bilevel
