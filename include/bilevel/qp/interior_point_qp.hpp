#pragma once
// Primal-dual interior-point method for small dense QPs (qpth's method, after CVXOPT's coneqp):
// slack variables s = h - G y >= 0, Mehrotra predictor-corrector steps, each Newton system
// reduced to (Q + G'WG) dy + A'dnu = r, A dy = r' with W = diag(lambda ./ s) and solved by a
// Cholesky factor and the Schur complement of the equalities, or, where that costs fewer flops
// (m + p rows not much more than n, Q positive definite: the dense layers), reduced to the
// multipliers as qpth reduces it (MultiplierNewton). Built for batches of QP layers:
// one solve per sample, no shared state, so a rank solves its block of the batch alone.
// Robustness: infeasible constraints are recognised by an approximate Farkas certificate
// (G'z + A'nu = 0, z >= 0, h'z + b'nu < 0) along the diverging dual iterates; a non-finite
// Newton step stops the method with the last finite iterate. The status says which happened.
// A solution that meets the tolerance is polished (the equality QP on the rows whose multiplier
// exceeds their slack, solved directly) and replaced if that lowers its KKT residuals and is
// strictly complementary (active multipliers and inactive slacks above the tolerance): the
// backward passes need binding rows at zero slack and inactive rows at zero multiplier, which
// the interior point reaches only to its tolerance. Degenerate solutions keep the iterate.
// With a diagonal Q and scaled bounds as the only inequalities (BoundStructure) the Newton
// matrix H is diagonal and each step is a Schur complement on the equality rows; the iteration is
// the same, only the factor differs (ActiveSetFactor, diagonal HessianFactor).
// A layer with quadratic constraints goes to InteriorPointQcqp, with the same settings.
#include "bilevel/qp/dense_qp.hpp"

#include <vector>

namespace bilevel {

class InteriorPointQp {
public:
  struct Config {
    double tolerance = 1e-11; ///< on the KKT residuals, relative to 1 + max(|q|, |h|, |b|)
    int max_iterations = 100;
    /// Take the diagonal Newton path when the QP has BoundStructure (detected per QP); false
    /// forces the dense path, against which tests and measurements compare it.
    bool exploit_structure = true;
    /// Which reduction of the Newton system the dense path factors (MultiplierNewton): the one
    /// with fewer flops, or one forced, against which tests compare the other. Forcing the
    /// multipliers falls back to y when Q is not positive definite.
    enum class Reduction { kCheaper, kToY, kToMultipliers };
    Reduction reduction = Reduction::kCheaper;
    /// Reads -<prefix>qp_tol, -<prefix>qp_max_it and -<prefix>qp_reduction (auto | y |
    /// multipliers; prefix e.g. "alg_").
    static Config from_options(const std::string& prefix);
  };
  explicit InteriorPointQp(Config config) : config_(config) {}

  QpSolution solve(const DenseQp& qp) const;
  /// Whether solve() reduces qp's Newton systems to the multipliers (MultiplierNewton) rather
  /// than to y: for a benchmark's flop count. Forms C Q^{-1} C' to find out.
  bool reduces_to_multipliers(const DenseQp& qp) const;
  std::vector<QpSolution> solve_batch(const std::vector<DenseQp>& batch) const;

private:
  Config config_;
};

} // namespace bilevel
