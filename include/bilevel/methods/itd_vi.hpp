#pragma once
// ITD for VI-constrained problems (Kaushik & Jin; docs/algorithms.md §3.4-3.6, Algorithm 1):
// T natural-map steps y <- P_Y(y - F(y, x)/b) warm-started across outer iterations, the
// implicit gradient through them in forward mode (J_{t+1} = grad_y z_b J_t + grad_x z_b, nx Vec
// columns, memory O(ny nx)) or reverse mode (adjoint sweep, memory O(T ny), cost independent of
// nx), then the projected outer step x <- P_X(x - beta grad) (step 6, with the minus the printed
// text lost). b defaults to L^2/mu on a VI, which minimises the contraction bound
// q = sqrt(1 - 2 mu/b + L^2/b^2) (then q = sqrt(1 - mu^2/L^2) < 1), and to L on a lower objective,
// where the natural map is a projected gradient step with q = 1 - mu/L.
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/natural_map_iteration.hpp"

#include <memory>
#include <vector>

namespace bilevel {

class ItdVi final : public HypergradientMethod {
public:
  enum class Mode { forward, reverse, automatic };
  struct Config {
    OuterStepConfig outer;
    int inner_steps;
    double b; ///< <= 0: L (objective) or L^2/mu (VI) from the problem's curvature estimates
    Mode mode;
    PetscInt forward_max_nx; ///< auto mode: reverse when nx exceeds this
    bool warm_start;
    bool check_exact;
    static Config from_options();
  };
  explicit ItdVi(Config config);

  std::string name() const override { return "itd_vi"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

  /// The resolved mode (after `auto`) and constants, for tests and reports.
  bool reverse_mode() const { return reverse_; }
  double b() const { return map_->b(); }
  double contraction_bound() const { return q_; }

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  void forward_sweep(Vec x, Vec grad, Record& record);
  void reverse_sweep(Vec x, Vec grad, Record& record);
  void record_inner(const NaturalMapIteration::Outcome& outcome, Record& record) const;

  Config config_;
  bool reverse_ = true;
  double q_ = 0.0;
  std::unique_ptr<NaturalMap> map_;
  std::unique_ptr<NaturalMapIteration> inner_;
  NaturalMapIteration::History history_;
  std::vector<OwnedVec> jacobian_; ///< forward mode: the nx columns of J_t
  OwnedVec y_start_, w_, w_next_, gy_, gx_, gx_step_, unit_x_, column_;
};

} // namespace bilevel
