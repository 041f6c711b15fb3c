#pragma once
// PGD-QP (the PGD-QP paper, Algorithm 1; docs/algorithms.md §4): single loop on z = (x, y) for
//   min f(x, y)  s.t.  h(x, y) = ||grad_y g(x, y)||^2 = 0,
// each step the closed-form QP direction D = -grad f - lambda grad h (eq. 7-8) and z <- z + gamma
// D. rho = ||grad h||^2 (Thm 4.2 / Cor 4.3: alpha = K^{-1/3}, gamma = min(alpha, 1/(L_f + alpha
// L_h))) or rho = ||grad h|| sqrt(h(z_0)) (Thm 4.5 / Cor 4.6: alpha = K^{-1/6}, gamma =
// min(K^{-2/3}, 1/L_f)); y_0 is warm-started by gradient descent on g(x_0, .) until h(z_0) <=
// alpha^2 C_0 (Algorithm 1, line 2).
#include "bilevel/methods/joint_method.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/solvers/lower_gradient_descent.hpp"
#include "bilevel/solvers/lower_stationarity.hpp"

#include <memory>

namespace bilevel {

class PgdQp final : public JointMethod {
public:
  enum class Rho { kGrad2, kSqrtH0 };
  struct Config {
    Rho rho;
    int outer_iters;    ///< K, which alpha and gamma depend on (the run's -outer_iters)
    double alpha;       ///< <= 0: the theorem's value
    double gamma;       ///< <= 0: the theorem's value
    double l_f, l_h;    ///< <= 0: estimated at z_0 (see estimate_l_f, estimate_l_h)
    double c0;          ///< warm start target h(z_0) <= alpha^2 C_0
    int warm_start_max; ///< gradient steps allowed for the warm start
    double inner_eta;   ///< warm-start step; <= 0: 1/L from the problem's curvature estimate
    Reporting reporting;
    static Config from_options(const RunSpec& run);
  };
  explicit PgdQp(Config config);

  std::string name() const override { return "pgd_qp"; }
  void setup(Problem& problem, Vec x0) override;
  void step(Vec x, Record& record) override;
  /// The running sums and the constants fixed at z_0 (h_0, alpha, gamma) are state too.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

private:
  double estimate_l_f(Vec x);
  double estimate_l_h(Vec x);

  Config config_;
  std::unique_ptr<LowerStationarity> stationarity_;
  OwnedVec grad_h_, delta_; ///< joint
  double alpha_ = 0, gamma_ = 0, h0_ = 0, l_f_ = 0, l_h_ = 0;
  int warm_start_steps_ = 0;
  // Running sums of Theorem 4.2/4.5's averaged quantities, over the iterations done so far.
  double iterations_ = 0, sum_delta_sq_ = 0, sum_h_ = 0, sum_grad_h_sq_ = 0;
};

} // namespace bilevel
