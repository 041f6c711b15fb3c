#pragma once
// SRBA (Dagreou, Moreau, Vaiter & Ablin, 2023, "A lower bound and a near-optimal algorithm for
// bilevel empirical risk minimization"; docs/algorithms.md, "Stochastic bilevel solvers"): SOBA's
// three directions
//   D_y = grad_y g,  D_v = grad^2_yy g v + grad_y f,  D_x = grad^2_xy g v + grad_x f
// estimated by SARAH recursions (RecursiveEstimate at eta = 0): every `period` iterations from the
// full sums, in between moved by the change of the minibatch terms between the previous point
// (x, y, v)_{k-1} and the current one, both on the same two batches. Constant steps: the paper's
// result is linear convergence at constant steps on strongly convex problems.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/recursive_estimate.hpp"

#include <optional>

namespace bilevel {

class Srba final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    /// Full-batch restart period as the reference benchmark sets it: (n + m) period_frac / batch.
    double period_frac;
    static Config from_options(const RunSpec& run);
  };
  explicit Srba(Config config)
      : StochasticBilevelMethod(config.schedule), period_frac_(config.period_frac) {}

  std::string name() const override { return "srba"; }
  void setup(Problem& problem, Vec x0) override;
  /// y, v, the draw counters, the three estimates and the previous point.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  /// SOBA's directions at (x, y, v) on the batches `lower` (of g) and `upper` (of f).
  struct Directions {
    Vector y, v, x;
  };
  Directions directions(const Vector& x, const Vector& y, const Vector& v,
                        const std::vector<long long>& lower, const std::vector<long long>& upper);

  double period_frac_;
  long long period_ = 1;
  std::optional<RecursiveEstimate> d_y_, d_v_, d_x_;
  Vector x_prev_, y_prev_, v_prev_;
};

} // namespace bilevel
