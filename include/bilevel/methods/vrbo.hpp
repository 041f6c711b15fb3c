#pragma once
// VRBO (Yang, Ji & Liang, NeurIPS 2021; docs/algorithms.md, "Stochastic bilevel solvers"): SPIDER
// estimates (RecursiveEstimate at eta = 0) of the inner gradient d_y and of the Neumann-series
// hypergradient d_x (PairedNeumannHypergradient, partial sums), recomputed from the full sums every
// `period` outer iterations. Each outer iteration k, as in the paper's Algorithm 2:
//   x_{k+1} = x_k - gamma d_x;  y~_1 = y_k - rho d_y;
//   for t = 1..m+1: both estimates moved by their change from the previous point ((x_k, y_k) at
//     t = 1, then (x_{k+1}, y~_{t-1})) to (x_{k+1}, y~_t) on the same fresh batches, and, but for
//     the last t, y~_{t+1} = y~_t - rho d_y;
//   y_{k+1} = y~_{m+1}, where the estimates now are.
// Constant steps.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/paired_neumann_hypergradient.hpp"
#include "bilevel/solvers/recursive_estimate.hpp"

#include <optional>

namespace bilevel {

class Vrbo final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    /// Full-batch period as the reference benchmark sets it: (n + m) period_frac / batch.
    double period_frac;
    int inner_steps; ///< m
    NeumannOptions series;
    static Config from_options(const RunSpec& run);
  };
  explicit Vrbo(Config config)
      : StochasticBilevelMethod(config.schedule), period_frac_(config.period_frac),
        inner_steps_(config.inner_steps), series_(config.series) {}

  std::string name() const override { return "vrbo"; }
  void setup(Problem& problem, Vec x0) override;
  /// y, the draw counters and the two estimates (at (x, y): no previous point to keep).
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  double period_frac_;
  int inner_steps_;
  NeumannOptions series_;
  long long period_ = 1;
  std::optional<PairedNeumannHypergradient> hypergradient_;
  std::optional<RecursiveEstimate> d_y_, d_x_;
};

} // namespace bilevel
