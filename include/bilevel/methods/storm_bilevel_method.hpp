#pragma once
// The double-momentum (STORM) bilevel solvers MRBO (Yang, Ji & Liang, NeurIPS 2021) and SUSTAIN
// (Khanduri, Zeng, Hong, Wai, Wang & Yang, NeurIPS 2021); docs/algorithms.md, "Stochastic bilevel
// solvers". One loop: the inner gradient d_y and the Neumann-series hypergradient d_x
// (PairedNeumannHypergradient) are STORM estimates (RecursiveEstimate),
//   d_k = term(z_k) + (1 - eta_k) (d_{k-1} - term(z_{k-1})),   z = (x, y), same batches,
// started from the first iteration's minibatch terms, and
//   y <- y - rho_k d_y,  x <- x - gamma_k d_x,
// with rho_k, gamma_k ~ (k + 1)^(-1/3) and eta_k = eta / (k + 1)^(2/3) (eta_k ~ rho_k^2, as both
// theorems take it). The two differ only in the series: MRBO sums its partial products, SUSTAIN
// takes one product of random length.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/paired_neumann_hypergradient.hpp"
#include "bilevel/solvers/recursive_estimate.hpp"

#include <optional>

namespace bilevel {

class StormBilevelMethod : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    double momentum;       ///< eta
    double momentum_decay; ///< eta_k = eta / (k + 1)^momentum_decay
    NeumannOptions series;
    /// The shared options of MRBO and SUSTAIN, with the reference benchmark's defaults, read
    /// inside the method's own OptionSection.
    static Config from_options(const RunSpec& run);
  };
  StormBilevelMethod(Config config, bool random_length)
      : StochasticBilevelMethod(config.schedule), config_(config), random_length_(random_length) {}

  void setup(Problem& problem, Vec x0) override;
  /// y, the draw counters, the two estimates and the previous point.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  /// The series' batches of this iteration: Q of them, or a random number in {0, ..., Q}.
  std::vector<std::vector<long long>> series_batches();

  Config config_;
  bool random_length_;
  std::optional<PairedNeumannHypergradient> hypergradient_;
  std::optional<RecursiveEstimate> d_y_, d_x_;
  Vector x_prev_, y_prev_;
};

} // namespace bilevel
