#include "bilevel/methods/pgd_qp.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/power_iteration.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/solvers/joint_vector.hpp"
#include "bilevel/solvers/single_constraint_qp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace bilevel {

namespace {
constexpr int kPowerIterations = 50;
/// The layout of the "pgd_qp" state dataset (save_state / load_state).
enum StateIndex : std::size_t {
  kIterations,
  kSumDeltaSq,
  kSumH,
  kSumGradHSq,
  kH0,
  kAlpha,
  kGamma,
  kLf,
  kLh,
  kWarmStartSteps,
  kStateSize
};
} // namespace

PgdQp::Config PgdQp::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm pgd_qp");
  Config c{};
  c.rho = options::get_choice("-alg_rho", "grad2", {"grad2", "sqrt_h0"},
                              "rho: ||grad h||^2 (Thm 4.2) or ||grad h|| sqrt(h(z0)) (Thm 4.5)") ==
                  "grad2"
              ? Rho::kGrad2
              : Rho::kSqrtH0;
  c.outer_iters = run.outer_iters; // the theorems tie alpha and gamma to the run length K
  c.alpha = options::get_real("-alg_alpha", 0.0, 0.0, 1e12,
                              "alpha; 0 = K^(-1/3) (grad2) or K^(-1/6) (sqrt_h0)");
  c.gamma = options::get_real("-alg_gamma", 0.0, 0.0, 1e12,
                              "step gamma; 0 = min(alpha, 1/(L_f + alpha L_h)) (grad2) or "
                              "min(K^(-2/3), 1/L_f) (sqrt_h0)");
  c.l_f = options::get_real("-alg_lf", 0.0, 0.0, 1e300,
                            "smoothness L_f of f; 0 = estimate at z0 (power iteration)");
  c.l_h = options::get_real("-alg_lh", 0.0, 0.0, 1e300,
                            "smoothness L_h of h; 0 = estimate 2 sigma_max([g_yx g_yy])^2 at z0");
  c.c0 = options::get_positive("-alg_c0", 1.0, "warm start target: h(z0) <= alpha^2 C0");
  c.warm_start_max = static_cast<int>(options::get_int(
      "-alg_warm_start_iters", 100000, 0, 1000000000, "gradient steps allowed for the warm start"));
  c.inner_eta = options::get_real("-alg_inner_eta", 0.0, 0.0, 1e12,
                                  "warm-start step size; 0 = 1/L from the problem's estimate");
  c.reporting = JointMethod::Reporting::from_options();
  return c;
}

PgdQp::PgdQp(Config config) : JointMethod(config.reporting), config_(config) {}

void PgdQp::setup(Problem& problem, Vec x0) {
  JointMethod::setup(problem, x0);
  stationarity_ = std::make_unique<LowerStationarity>(y_);
  grad_h_ = create_joint(x0, y_);
  delta_ = create_joint(x0, y_);

  const double K = std::max(config_.outer_iters, 1);
  const bool grad2 = config_.rho == Rho::kGrad2;
  alpha_ = config_.alpha > 0 ? config_.alpha : std::pow(K, grad2 ? -1.0 / 3.0 : -1.0 / 6.0);
  // Algorithm 1, line 2: y_0 with h(x_0, y_0) <= alpha^2 C_0, by gradient descent on g(x_0, .).
  const double eta = config_.inner_eta > 0 ? config_.inner_eta : 1.0 / curvature().lipschitz;
  LowerGradientDescent warm_start(y_);
  warm_start_steps_ = warm_start.run_until(problem, x0, y_, config_.warm_start_max, eta,
                                           alpha_ * alpha_ * config_.c0);
  h0_ = stationarity_->evaluate(problem, x0, y_, nullptr);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  l_f_ = l_h_ = nan; // only the constants the step-size rule uses are estimated
  if (config_.gamma > 0) {
    gamma_ = config_.gamma;
  } else if (grad2) {
    l_f_ = config_.l_f > 0 ? config_.l_f : estimate_l_f(x0);
    l_h_ = config_.l_h > 0 ? config_.l_h : estimate_l_h(x0);
    gamma_ = std::min(alpha_, 1.0 / (l_f_ + alpha_ * l_h_)); // Theorem 4.2 / Corollary 4.3
  } else {
    l_f_ = config_.l_f > 0 ? config_.l_f : estimate_l_f(x0);
    gamma_ = std::min(std::pow(K, -2.0 / 3.0), 1.0 / l_f_); // Theorem 4.5 / Corollary 4.6
  }
}

double PgdQp::estimate_l_f(Vec x) {
  // The interface has no Hessian of f, so this is a local estimate at z_0: the largest
  // |eigenvalue| of grad^2 f(z_0) by power iteration on central differences of grad f,
  //   grad^2 f v ~ (grad f(z + t v) - grad f(z - t v)) / (2t),  ||v|| = 1.
  // Assumption 2.1's L_f is a global bound and may be larger; -alg_lf gives it when known.
  OwnedVec z = create_joint(x, y_), zp = create_joint(x, y_), zm = create_joint(x, y_),
           gm = create_joint(x, y_), v = create_joint(x, y_);
  BB_PETSC(VecCopy(x, x_part(z)));
  BB_PETSC(VecCopy(y_, y_part(z)));
  PetscReal norm_z = 0;
  BB_PETSC(VecNorm(z, NORM_2, &norm_z));
  const double t = 1e-5 * std::max(1.0, static_cast<double>(norm_z));
  set_power_start(x_part(v));
  set_power_start(y_part(v));
  const double lambda = power_iteration(
      v,
      [&](Vec in, Vec out) {
        BB_PETSC(VecWAXPY(zp, t, in, z));
        BB_PETSC(VecWAXPY(zm, -t, in, z));
        problem().upper_gradient(x_part(zp), y_part(zp), x_part(out), y_part(out));
        problem().upper_gradient(x_part(zm), y_part(zm), x_part(gm), y_part(gm));
        BB_PETSC(VecAXPY(out, -1.0, gm));
        BB_PETSC(VecScale(out, 0.5 / t));
      },
      kPowerIterations);
  return std::abs(lambda);
}

double PgdQp::estimate_l_h(Vec x) {
  // grad^2 h = 2 J'J + 2 sum_i (grad_y g)_i grad^2 (d g / d y_i), J = [grad^2_yx g, grad^2_yy g].
  // The second term vanishes where grad_y g = 0 (the warm start puts z_0 near there) and for
  // quadratic g everywhere, so L_h ~ 2 lambda_max(J'J) = 2 lambda_max(J J'), computed with exact
  // Hessian-vector products: J J' w = grad^2_yx g (grad^2_xy g w) + grad^2_yy g (grad^2_yy g w).
  // Local at z_0 like estimate_l_f (Lemma 4.1's constant is a global bound).
  OwnedVec v = duplicate(y_), tx = duplicate(x), ty = duplicate(y_), tyy = duplicate(y_);
  set_power_start(v);
  const double lambda = power_iteration(
      v,
      [&](Vec in, Vec out) {
        problem().lower_hess_xy(x, y_, in, tx);
        problem().lower_hess_yx(x, y_, tx, out);
        problem().lower_hess_yy(x, y_, in, ty);
        problem().lower_hess_yy(x, y_, ty, tyy);
        BB_PETSC(VecAXPY(out, 1.0, tyy));
      },
      kPowerIterations);
  return 2.0 * lambda;
}

void PgdQp::step(Vec x, Record& record) {
  const double h = stationarity_->evaluate(problem(), x, y_, grad_h_);
  upper_gradient(x);
  PetscScalar grad_h_dot_grad_f = 0, grad_h_sq = 0;
  BB_PETSC(VecDot(grad_h_, grad_f_, &grad_h_dot_grad_f));
  BB_PETSC(VecDot(grad_h_, grad_h_, &grad_h_sq));
  const double rho = config_.rho == Rho::kGrad2 ? grad_h_sq : std::sqrt(grad_h_sq * h0_);
  const double lambda = qp_multiplier(alpha_ * rho, grad_h_dot_grad_f, grad_h_sq); // eq. (8c)
  qp_direction(grad_f_, grad_h_, lambda, delta_);                                  // eq. (8a-b)
  PetscReal delta_x = 0, delta_y = 0;
  BB_PETSC(VecNorm(x_part(delta_), NORM_2, &delta_x));
  BB_PETSC(VecNorm(y_part(delta_), NORM_2, &delta_y));
  move(x, gamma_, delta_);

  const double delta_sq = delta_x * delta_x + delta_y * delta_y;
  iterations_ += 1;
  sum_delta_sq_ += delta_sq;
  sum_h_ += h;
  sum_grad_h_sq_ += grad_h_sq;
  // Every value describes z_k, the point the step started from (the theorems' sums over k).
  record.set("h", h);
  record.set("grad_h_sq", grad_h_sq);
  record.set("delta_sq", delta_sq);
  record.set("lambda", lambda);
  record.set("rho", rho);
  record.set("avg_delta_sq", sum_delta_sq_ / iterations_);
  record.set("avg_h", sum_h_ / iterations_);
  record.set("avg_grad_h_sq", sum_grad_h_sq_ / iterations_);
  // Definition 2.4's eps-KKT residuals of problem (3) at (x_k, y_k, nu_k), nu_k = 2 lambda_k
  // grad_y g: the multiplier of grad_y g = 0 that the multiplier lambda_k of h = 0 induces (the
  // paper's nu = lambda grad_y g with its grad h lacking the 2). Then [g_yx g_yy]' nu = lambda
  // grad h, so the stationarity residuals are exactly the blocks of D_k (as in the proof of
  // Corollary 4.3), and the feasibility residual ||grad_y g||^2 is h.
  record.set("kkt_stationarity_x", delta_x * delta_x);
  record.set("kkt_stationarity_y", delta_y * delta_y);
  record.set("kkt_feasibility", h);
  record.set("kkt_residual", std::max({h, delta_x * delta_x, delta_y * delta_y}));
  record.set("alpha", alpha_);
  record.set("gamma", gamma_);
  record.set("h0", h0_);
  record.set("l_f", l_f_);
  record.set("l_h", l_h_);
  record.set("warm_start_steps", warm_start_steps_);
}

void PgdQp::save_state(hid_t group) const {
  JointMethod::save_state(group);
  std::vector<double> state(kStateSize);
  state[kIterations] = iterations_;
  state[kSumDeltaSq] = sum_delta_sq_;
  state[kSumH] = sum_h_;
  state[kSumGradHSq] = sum_grad_h_sq_;
  state[kH0] = h0_;
  state[kAlpha] = alpha_;
  state[kGamma] = gamma_;
  state[kLf] = l_f_;
  state[kLh] = l_h_;
  state[kWarmStartSteps] = warm_start_steps_;
  h5::write_dense(problem().comm(), group, "pgd_qp", state, kStateSize, 0);
}

void PgdQp::load_state(hid_t group) {
  JointMethod::load_state(group);
  const std::vector<double> state = h5::read_all(group, "pgd_qp");
  if (state.size() != kStateSize)
    throw InputError("restart state 'pgd_qp' has " + std::to_string(state.size()) +
                     " entries, expected " + std::to_string(kStateSize));
  iterations_ = state[kIterations];
  sum_delta_sq_ = state[kSumDeltaSq];
  sum_h_ = state[kSumH];
  sum_grad_h_sq_ = state[kSumGradHSq];
  h0_ = state[kH0];
  alpha_ = state[kAlpha];
  gamma_ = state[kGamma];
  l_f_ = state[kLf];
  l_h_ = state[kLh];
  warm_start_steps_ = static_cast<int>(state[kWarmStartSteps]);
}

} // namespace bilevel
