#pragma once
// The FFO-layer paper on a bilevel problem with a QP lower level (QpLowerLevel, e.g. qp_bilevel):
// each outer iteration solves the lower QP by the interior-point method, then estimates grad Phi =
// grad_x f + (dq/dx)' dl/dq by the oracle -alg_oracle (docs/algorithms.md §6.5):
//   kkt, ffoqp  the QP-layer backward pass with dl/dy = grad_y f(x, y*), then lower_hess_xy;
//   ffo         Algorithm 1 with the true upper level (not its linearisation), using only
//               gradients of g and f: y_delta = argmin g + delta f on the ghost problem's affine
//               set (AffineGradientDescent), then, the constraints being independent of x,
//               grad Phi ~ grad_x f(x, y_delta) + [grad_x g(x, y_delta) - grad_x g(x, y*)]/delta,
//               whose error is O(delta) plus the inner tolerance over delta.
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"

#include <memory>

namespace bilevel {

class QpLowerLevel;

class QpHypergrad final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    InteriorPointQp::Config ipm;
    QpLayerOracleConfig oracle;
    static Config from_options();
  };
  explicit QpHypergrad(Config config);

  std::string name() const override { return "qp_hypergrad"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  /// Solves the lower QP into y (a Vec of the problem's layout).
  QpSolution lower_solution(const DenseQp& qp, Vec y);
  /// The ffo estimate (general smooth g and f through the Problem's gradients).
  void ffo_hypergradient(Vec x, const DenseQp& qp, const QpSolution& solution, Vec grad,
                         Record& record);

  Config config_;
  InteriorPointQp ipm_;
  std::unique_ptr<QpLayerOracle> oracle_;
  QpLowerLevel* qp_problem_ = nullptr;
  OwnedVec gy_, gf_, gx_, y_delta_;
};

} // namespace bilevel
