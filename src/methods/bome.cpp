#include "bilevel/methods/bome.hpp"

#include "bilevel/solvers/inner_step.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/solvers/joint_vector.hpp"
#include "bilevel/solvers/single_constraint_qp.hpp"

namespace bilevel {

Bome::Config Bome::Config::from_options() {
  OptionSection section("algorithm bome");
  Config c{};
  c.inner = InnerSteps::from_options("inner gradient steps T giving y_T in q");
  c.eta =
      options::get_positive("-alg_eta", 0.5, "eta: lambda enforces grad q' D <= -eta |grad q|^2");
  c.gamma = options::get_positive("-alg_gamma", 0.01, "outer step gamma on (x, y)");
  c.reporting = JointMethod::Reporting::from_options();
  return c;
}

Bome::Bome(Config config) : JointMethod(config.reporting), config_(config) {}

void Bome::setup(Problem& problem, Vec x0) {
  JointMethod::setup(problem, x0);
  inner_ = std::make_unique<LowerGradientDescent>(y_);
  inner_eta_ = config_.inner.eta > 0 ? config_.inner.eta : 1.0 / curvature().lipschitz;
  y_hat_ = problem.create_y();
  grad_x_g_hat_ = duplicate(x0);
  grad_q_ = create_joint(x0, y_);
  direction_ = create_joint(x0, y_);
}

void Bome::step(Vec x, Record& record) {
  BB_PETSC(VecCopy(y_, y_hat_));
  inner_->run(problem(), x, y_hat_, config_.inner.count, inner_eta_);
  // grad q = grad g(x, y) - (grad_x g(x, y_T), 0): y_T is held fixed (BOME's stop-gradient).
  problem().lower_gradient(x, y_, x_part(grad_q_), y_part(grad_q_));
  problem().lower_gradient(x, y_hat_, grad_x_g_hat_, nullptr);
  BB_PETSC(VecAXPY(x_part(grad_q_), -1.0, grad_x_g_hat_));
  upper_gradient(x);
  PetscScalar grad_q_dot_grad_f = 0, grad_q_sq = 0;
  BB_PETSC(VecDot(grad_q_, grad_f_, &grad_q_dot_grad_f));
  BB_PETSC(VecDot(grad_q_, grad_q_, &grad_q_sq));
  const double lambda = qp_multiplier(config_.eta * grad_q_sq, grad_q_dot_grad_f, grad_q_sq);
  qp_direction(grad_f_, grad_q_, lambda, direction_); // -(grad f + lambda grad q)
  PetscReal direction_norm = 0;
  BB_PETSC(VecNorm(direction_, NORM_2, &direction_norm));
  move(x, config_.gamma, direction_);
  record.set("lambda", lambda);
  record.set("grad_q_sq", grad_q_sq);
  record.set("delta_sq", direction_norm * direction_norm);
}

} // namespace bilevel
