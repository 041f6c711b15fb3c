#pragma once
// The interior point's Newton system reduced to the multipliers, as qpth's batched interior point
// reduces it (Amos & Kolter, "OptNet: Differentiable Optimization as a Layer in Neural Networks",
// 2017). With Q positive definite and C = [G; A], the system
//   Q dy + G'dz + A'dnu = f,   G dy - diag(d) dz = g,   A dy = e        (d = s ./ lambda > 0)
// loses dy = Q^{-1}(f - C'[dz; dnu]) and keeps
//   M [dz; dnu] = C Q^{-1} f - [g; e],   M = C Q^{-1} C' + diag(d, 0),
// symmetric positive definite when A has full row rank. C Q^{-1} C' does not change between
// iterations and is formed once per QP; each iteration adds d to its diagonal and factors the
// (m + p) x (m + p) result, (m + p)^3 / 3 flops. The reduction to y (ActiveSetFactor on no active
// rows) forms Q + G'diag(1 ./ d)G by a rank-m update and factors it every iteration, n^2 m + n^3 /
// 3 flops: four times as many for the layers' m = n. The interior point takes whichever reduction
// costs fewer flops over a typical solve (cheaper()); the iterates differ only by rounding.
#include "bilevel/qp/dense_qp.hpp"
#include "bilevel/qp/hessian_factor.hpp"

#include <optional>

namespace bilevel {

class MultiplierNewton {
public:
  /// Whether this reduction costs fewer flops than the reduction to y over a typical solve (15
  /// Newton matrices) of a QP with n variables, m rows of G and p of A; `q_diagonal` says whether
  /// Q is diagonal (then it needs no Cholesky factor and C Q^{-1} C' no triangular solve).
  static bool cheaper(Eigen::Index n, Eigen::Index m, Eigen::Index p, bool q_diagonal);

  /// Factors Q (by its diagonal `q_diagonal` if given) and forms C Q^{-1} C'; nullopt if Q is not
  /// positive definite (an LP-like layer: only the reduction to y applies). Keeps a reference to
  /// qp, which must outlive this object.
  static std::optional<MultiplierNewton> of(const DenseQp& qp, const Eigen::VectorXd* q_diagonal);

  /// M for the diagonal d (m entries), in `storage` (the previous factor's, or empty): only its
  /// lower triangle is written, which is all HessianFactor reads.
  Eigen::MatrixXd matrix(const Eigen::VectorXd& d, Eigen::MatrixXd storage) const;

  /// C Q^{-1} f, all a solve needs of f alone: the interior point's predictor and corrector have
  /// the same f and differ in g, so they share it (a pass over G fewer).
  Eigen::VectorXd reduce(const Eigen::VectorXd& f) const;

  /// The system's [dz; dnu] = M^{-1}(C Q^{-1} f - [g; e]) with M's factor; `reduced_f` is
  /// reduce(f).
  void solve_multipliers(const HessianFactor& M, const Eigen::VectorXd& reduced_f,
                         const Eigen::VectorXd& g, const Eigen::VectorXd& e, Eigen::VectorXd& dz,
                         Eigen::VectorXd& dnu) const;

  /// Its dy = Q^{-1}(f - C'[dz; dnu]), and C'[dz; dnu] in `c_multipliers` (the product a
  /// refinement's residual needs again). The predictor needs no dy, and skips this pass over G.
  void solve_y(const Eigen::VectorXd& f, const Eigen::VectorXd& dz, const Eigen::VectorXd& dnu,
               Eigen::VectorXd& dy, Eigen::VectorXd& c_multipliers) const;

private:
  MultiplierNewton(const DenseQp& qp, HessianFactor q);
  /// v <- Q^{-1} v.
  void apply_q_inverse(Eigen::VectorXd& v) const;

  const DenseQp* qp_;
  HessianFactor q_;
  Eigen::MatrixXd gram_; ///< C Q^{-1} C', its lower triangle
};

} // namespace bilevel
