#pragma once
// The first-order inner solver of the fully first-order oracle (docs/algorithms.md §6.4):
// minimises a smooth function over the affine set {y : C y = C y0} from y0, using only its
// gradient, projected onto the null space of C (the ghost problem's constraints are the
// equalities and the active inequalities, all enforced as equalities). Barzilai-Borwein steps,
// so no Lipschitz constant is needed; stops when the projected gradient is below the tolerance.
#include <Eigen/Dense>

#include <functional>

namespace bilevel {

class AffineGradientDescent {
public:
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;
  struct Config {
    double tolerance = 1e-12; ///< on ||P_N grad||_inf (absolute)
    int max_iterations = 10000;
  };
  struct Result {
    Vector y;
    int iterations = 0;
    bool converged = false;
  };

  /// C: k x n constraint rows (k may be 0); C C' is factored once here.
  AffineGradientDescent(Matrix C, Config config);

  /// v - C'(CC')^+ C v: the component of v along the affine set.
  Vector project_null(const Vector& v) const;
  /// The least-squares multipliers w minimising ||grad + C'w|| (exact at a stationary point).
  Vector multipliers(const Vector& grad) const;

  Result minimise(const std::function<Vector(const Vector&)>& gradient, Vector y0,
                  double first_step) const;

private:
  Matrix C_;
  Eigen::LDLT<Matrix> gram_;
  Config config_;
};

} // namespace bilevel
