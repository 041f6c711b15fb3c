#pragma once
// Base of the stochastic bilevel solvers of the reference benchmark (docs/algorithms.md,
// "Stochastic bilevel solvers"): on a finite-sum problem (FiniteSumProblem), with x, y and the
// adjoint estimate v ~ -[grad^2_yy g]^{-1} grad_y f replicated as Eigen vectors, each step draws
// minibatches (MinibatchSampler, per-role draw counters, so a restart continues the same draws)
// and evaluates them through MinibatchOracles; a subclass's iterate() moves y, v and x. The base
// holds the step-size schedule
//   rho_k = rho / (k + 1)^a (inner, for y and v),  gamma_k = (rho / outer_ratio) / (k + 1)^b,
// writes x back into the driver's Vec after each step, saves y, v and the counters for a restart,
// and reports, outside the timed step, ||grad Phi(x)|| and ||y - y*(x)||: from the problem's
// closed form where it has one, else from the tight solves of TrueHypergradient.
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/minibatch_oracles.hpp"
#include "bilevel/solvers/minibatch_sampler.hpp"
#include "bilevel/solvers/true_hypergradient.hpp"

#include <memory>
#include <optional>
#include <string>

namespace bilevel {

struct RunSpec;

class StochasticBilevelMethod : public Algorithm {
public:
  using Vector = Eigen::VectorXd;

  /// The options every stochastic solver shares (names and defaults of the reference
  /// benchmark): -alg_batch_size, -alg_step_size, -alg_outer_ratio and the decay exponents
  /// -alg_inner_decay, -alg_outer_decay, whose defaults are the method's.
  struct Schedule {
    long long batch_size;
    double step_size;        ///< rho
    double outer_ratio;      ///< gamma = rho / outer_ratio
    double inner_decay;      ///< a
    double outer_decay;      ///< b
    long long seed;          ///< of the minibatch draws: the run's
    bool true_hypergradient; ///< -alg_true_hypergrad: report() solves where no closed form
    /// Reads the shared options; call inside the method's OptionSection.
    static Schedule from_options(const RunSpec& run, double inner_decay, double outer_decay);
    double inner_step(long long k) const;
    double outer_step(long long k) const;
  };

  /// -alg_inner_steps, the inner loop length of the solvers that have one (default 10, the
  /// reference benchmark's), at least `min_steps`; `meaning` is its -help text.
  static int inner_steps_from_options(int min_steps, const char* meaning);

  explicit StochasticBilevelMethod(Schedule schedule) : schedule_(schedule) {}

  /// Requires a finite sum; starts y at the problem's initial y and v at zero.
  void setup(Problem& problem, Vec x0) override;
  /// Draws and moves through iterate(), then writes x and y back; records the step sizes.
  void step(Vec x, Record& record) final;
  Vec lower_iterate() const override { return y_vec_; }
  /// hypergrad_norm = ||grad Phi(x)|| and inner_distance = ||y - y*(x)||, from the closed form
  /// or TrueHypergradient's solves; neither with -alg_true_hypergrad false and no closed form.
  void report(Vec x, Record& record) override;
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

protected:
  /// One iteration at the current x_, y_, v_ with steps rho_k (inner) and gamma_k (outer).
  virtual void iterate(double inner_step, double outer_step, Record& record) = 0;
  /// The next batch of `role` (each call advances that role's draw counter).
  std::vector<long long> draw(SampleRole role);
  /// Every sample of `role` once: the full sum, for the periodic full-batch restarts of the
  /// recursive estimators (no draw counter moves).
  std::vector<long long> full_batch(SampleRole role) const;
  /// The iterations between those full-batch restarts: (n_inner + n_outer) period_frac /
  /// batch_size, at least 1 (SRBA's and VRBO's -alg_period_frac).
  long long full_batch_period(double period_frac) const;
  MinibatchOracles& oracles() { return *oracles_; }
  Problem& problem() const { return *problem_; }
  const Schedule& schedule() const { return schedule_; }
  long long iteration() const { return iteration_; }
  /// Restart state of a subclass: a replicated vector (an estimate, a previous iterate) written
  /// under `name` in the state group, and read back with its length checked.
  void save_replicated(hid_t group, const std::string& name, const Vector& value) const;
  Vector load_replicated(hid_t group, const std::string& name, Eigen::Index size) const;

  Vector x_, y_, v_;

private:
  Schedule schedule_;
  Problem* problem_ = nullptr;
  std::unique_ptr<MinibatchOracles> oracles_;
  std::optional<MinibatchSampler> lower_sampler_, upper_sampler_;
  long long iteration_ = 0;
  std::uint64_t lower_draws_ = 0, upper_draws_ = 0;
  OwnedVec y_vec_;
  OwnedVec report_grad_, report_y_star_;                  ///< report()'s closed form
  std::unique_ptr<TrueHypergradient> true_hypergradient_; ///< report()'s solves without one
  /// The Vec x as last written by step(): a different one (a restart's) is gathered again.
  PetscObjectId x_id_ = -1;
  PetscObjectState x_state_ = -1;
};

} // namespace bilevel
