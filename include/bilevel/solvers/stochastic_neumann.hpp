#pragma once
// The stochastic Neumann-series estimate of an inverse lower Hessian applied to a vector, shared by
// the stochastic solvers that invert grad^2_yy g this way (StocBiO, TTSA, BSA; docs/algorithms.md,
// "Stochastic bilevel solvers"). With a step eta <= 1/L_g,
//   H^{-1} b = eta sum_{q >= 0} (I - eta H)^q b,
// and each factor (I - eta H) is estimated by a minibatch Hessian of g on its own batch, so the
// products of independent factors are unbiased for the powers. Two estimates of the truncated
// series eta sum_{q < Q} (I - eta H)^q b:
//  - sum():    every partial product, one fresh batch per factor (StocBiO's);
//  - sample(): one product of a random length p uniform in {0, ..., Q - 1}, times Q, which is
//              unbiased for the same truncated sum at the cost of p products (Ghadimi & Wang's,
//              used by BSA and TTSA).
// The deterministic sibling, on the full-batch Hessian and PETSc Vecs, is NeumannSeries.
#include "bilevel/solvers/minibatch_oracles.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace bilevel {

/// The series' options, shared by every method that uses a stochastic Neumann series (here and
/// in PairedNeumannHypergradient): -alg_neumann_terms (Q) and -alg_neumann_step (eta).
struct NeumannOptions {
  int products; ///< Q: Hessian products of the partial sums; bounds the random length's products
  double step;  ///< eta, at most 1/L_g
  /// The reference benchmark's defaults: Q = 10, eta = the method's step size. `min_products`:
  /// the smallest Q the method's estimate is defined for (a random length in {0, ..., Q - 1}
  /// needs Q >= 1).
  static NeumannOptions from_options(double default_step, int min_products);
};

class StochasticNeumann {
public:
  using Vector = Eigen::VectorXd;
  /// The next batch of g's samples; called once per Hessian product.
  using DrawLower = std::function<std::vector<long long>()>;

  explicit StochasticNeumann(MinibatchOracles& oracles) : oracles_(oracles) {}

  /// eta sum_{q=0}^{terms-1} prod_{j<q} (I - eta H_{B_j}) b: terms - 1 products (terms >= 1).
  Vector sum(const Vector& x, const Vector& y, const Vector& b, int terms, double eta,
             const DrawLower& draw);
  /// terms eta prod_{j<length} (I - eta H_{B_j}) b: `length` products (0 <= length < terms).
  Vector sample(const Vector& x, const Vector& y, const Vector& b, int length, int terms,
                double eta, const DrawLower& draw);

  /// The hypergradient estimate of the Neumann-series methods at (x, y):
  ///   D_x = grad_x f_J + d_x(grad_y g_I)' v,  v = -(estimate of H^{-1} grad_y f_J),
  /// with J the batch `upper` of f's samples and I a fresh batch of g's samples for the cross
  /// derivative, independent of the series' batches. Stores v (the negative adjoint estimate).
  /// StocBiO's: the estimate is sum() with options.steps products (Q + 1 terms).
  Vector summed_hypergradient(const Vector& x, const Vector& y, const NeumannOptions& options,
                              const DrawLower& draw_lower, const std::vector<long long>& upper,
                              Vector& v);
  /// BSA's and TTSA's: the estimate is sample() of `length` products, truncation options.steps.
  Vector sampled_hypergradient(const Vector& x, const Vector& y, const NeumannOptions& options,
                               int length, const DrawLower& draw_lower,
                               const std::vector<long long>& upper, Vector& v);

  /// The random length of sample() at iteration k: uniform in {0, ..., terms - 1}, a pure
  /// function of (seed, k), so it is the same on every rank and after a restart.
  static int random_length(long long seed, std::uint64_t k, int terms);

private:
  using Inverse = std::function<Vector(const Vector&)>;
  Vector hypergradient(const Vector& x, const Vector& y, const Inverse& inverse,
                       const DrawLower& draw_lower, const std::vector<long long>& upper, Vector& v);
  /// term <- (I - eta H_B) term on a fresh batch B.
  void contract(const Vector& x, const Vector& y, Vector& term, double eta, const DrawLower& draw);

  MinibatchOracles& oracles_;
};

} // namespace bilevel
