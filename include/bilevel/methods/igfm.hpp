#pragma once
// IGFM, the inexact gradient-free method of the IGFM paper (docs/algorithms.md §5.3, the paper's
// Algorithm 2): a two-point zeroth-order estimate of the hypergradient of the optimistic
// phi(x) = min_{y in Y*(x)} f(x, y), with phi evaluated inexactly by SGM (switching_gradient):
//   grad_hat = (1/B) sum_b (nx / 2 delta) (phi_tilde(x + delta u_b) - phi_tilde(x - delta u_b))
//   u_b, x <- x - eta grad_hat.
// B = 1 is the paper's method; B > 1 (-alg_igfm_batch) is our extension. The 2B evaluations
// are independent inner problems, spread over G rank groups (-alg_groups): each group solves
// its share on its own copy of the problem (built on the group communicator, since a
// replicated problem on the parent communicator would need every rank in every oracle), and
// one MPI_Allreduce over the parent combines the values. The directions u_b come from a
// counter generator indexed by (iteration, direction, coordinate) and every evaluation starts
// from the same y0, so the trace does not depend on the rank or group count. With
// -alg_igfm_warm_start (our choice; the paper restarts SGM from the fixed y0) that y0 is SGM's
// y_out at the current x_t, replicated on every rank: the lower variables SGM moves only by
// f-steps (hard_liu's y2) then need not travel from scratch at every evaluation.
// Besides the last iterate, IGFM keeps Theorem 6.2's output, an iterate drawn uniformly from
// x_0 ... x_{T-1} for the T steps run so far, by reservoir sampling (x_t replaces the kept one
// with probability 1/(t+1), from a counter generator of -seed: rank-count independent); it is
// written as /state/x_uniform with the index drawn (docs/result-format.md).
#include "bilevel/core/rank_groups.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/solvers/switching_gradient.hpp"

#include <Eigen/Dense>

#include <functional>
#include <memory>

namespace bilevel {

class Igfm final : public Algorithm {
public:
  struct Config {
    double eta;     ///< outer step
    double delta;   ///< smoothing radius
    int batch;      ///< B directions per iteration
    int groups;     ///< G rank groups sharing the 2B evaluations
    long long seed; ///< the run's: the directions and the reservoir draws
    bool warm_start;
    SwitchingGradient::Config sgm;
    /// Builds the run's problem on a rank group's communicator (RunSpec::make_problem).
    std::function<std::unique_ptr<Problem>(MPI_Comm)> replicate;
    static Config from_options(const RunSpec& run);
  };
  explicit Igfm(Config config) : config_(std::move(config)) {}

  std::string name() const override { return "igfm"; }
  void setup(Problem& problem, Vec x0) override;
  void step(Vec x, Record& record) override;
  Vec lower_iterate() const override { return y_; }
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

  /// Theorem 6.2's output: uniform over x_0 ... x_{t-1} after t steps (x_0 before any).
  Vec uniform_iterate() const { return x_uniform_; }
  long long uniform_index() const { return uniform_index_; }
  /// Whether x_t (t >= 1) replaces the kept iterate under `seed`: probability 1/(t + 1).
  static bool reservoir_keeps(long long seed, long long t);

  /// SGM's step in use (1/L of g at (x0, y0) when -alg_sgm_tau was 0); valid after setup().
  double sgm_tau() const { return config_.sgm.tau; }

  /// The unit direction u_b of iteration t (nx coordinates): a normalised Gaussian.
  Eigen::VectorXd direction(long long t, int b, Eigen::Index nx) const;

private:
  /// SGM at x (whole, on every rank) from y_, leaving y_out in y_.
  SwitchingGradient::Result lower_solution(const Eigen::VectorXd& x);
  /// Copies a lower iterate between the parent's and the group's layout of y.
  void transfer_y(Vec from, Vec to) const;

  Config config_;
  Problem* problem_ = nullptr;
  long long iteration_ = 0;
  long long uniform_index_ = 0;
  OwnedVec y_, y_start_, x_uniform_;
  // Declared in destruction order: the group's Vecs and problem go before its communicator.
  std::unique_ptr<RankGroups> groups_;
  std::unique_ptr<Problem> group_problem_;
  OwnedVec group_x_, group_y_, group_y0_;
  std::unique_ptr<SwitchingGradient> group_sgm_;
  /// Every rank owns the same rows of y in the parent and the group (one group): transfers
  /// are local copies instead of gathers of the whole of y.
  bool same_y_layout_ = false;
};

} // namespace bilevel
