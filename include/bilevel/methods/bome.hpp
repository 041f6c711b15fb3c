#pragma once
// BOME (Liu et al. 2022; docs/algorithms.md §2.5): with q(x, y) = g(x, y) - g(x, y_T), y_T from T
// gradient steps on g(x, .) started at y,
//   grad q = grad g(x, y) - (grad_x g(x, y_T), 0),
//   lambda = max((eta ||grad q||^2 - grad f' grad q) / ||grad q||^2, 0),
//   (x, y) <- (x, y) - gamma (grad f + lambda grad q),
// i.e. the single-constraint QP step shared with PGD-QP, with c = q and b = eta ||grad q||^2.
#include "bilevel/methods/joint_method.hpp"
#include "bilevel/solvers/inner_step.hpp"
#include "bilevel/solvers/lower_gradient_descent.hpp"

#include <memory>

namespace bilevel {

class Bome final : public JointMethod {
public:
  struct Config {
    InnerSteps inner;
    double eta;   ///< the control of the QP's constraint
    double gamma; ///< outer step
    Reporting reporting;
    static Config from_options();
  };
  explicit Bome(Config config);

  std::string name() const override { return "bome"; }
  void setup(Problem& problem, Vec x0) override;
  void step(Vec x, Record& record) override;

private:
  Config config_;
  double inner_eta_ = 0.0;
  std::unique_ptr<LowerGradientDescent> inner_;
  OwnedVec y_hat_, grad_x_g_hat_;
  OwnedVec grad_q_, direction_; ///< joint
};

} // namespace bilevel
