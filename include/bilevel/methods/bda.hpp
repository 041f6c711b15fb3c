#pragma once
// BDA (bi-level descent aggregation, Liu et al. 2020; docs/algorithms.md §2.4): T inner steps on
// the aggregate of both levels,
//   u_t = y_t - s (alpha_t grad_y f(x, y_t) + (1 - alpha_t) grad_y g(x, y_t)),
//   y_{t+1} = P_Y(u_t),   alpha_t = mu / (t + 1),
// then the ITD-style reverse sweep through those steps. The sweep needs the upper level's
// second derivatives, which the Problem interface does not offer: they are central differences
// of grad f along the adjoint (exact up to rounding for quadratic f, as on the hard instances).
// Unlike ITD, a lower set is allowed: the sweep applies the projection's Jacobian at u_t.
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/inner_step.hpp"

#include <vector>

namespace bilevel {

class Bda final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    InnerSteps inner;
    double mu; ///< alpha_t = mu / (t + 1)
    bool warm_start;
    static Config from_options();
  };
  explicit Bda(Config config);

  std::string name() const override { return "bda"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  /// The aggregated steps from y (in place), keeping y_t and u_t when `record` is true.
  void descend(Vec x, Vec y, bool record);
  /// out_y = grad^2_yy f w and out_x = grad^2_xy f w by central differences of grad f.
  void upper_hessian_products(Vec x, Vec y, Vec w, Vec out_x, Vec out_y);

  Config config_;
  double eta_ = 0.0;
  std::vector<OwnedVec> ys_, us_;
  OwnedVec y_start_, w_, tmp_y_, hy_f_, hy_g_, gx_acc_, hx_f_, hx_g_, gx_plus_, gx_minus_, gy_plus_,
      gy_minus_, y_shift_;
};

} // namespace bilevel
