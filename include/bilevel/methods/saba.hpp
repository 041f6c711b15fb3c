#pragma once
// SABA (Dagreou, Ablin, Vaiter & Moreau, NeurIPS 2022; docs/algorithms.md §10.3): SOBA with each
// of its five sampled quantities -- grad_y g_i, grad^2_yy g_i v, d_x(grad_y g_i)' v (from g's
// batch), grad_y f_j, grad_x f_j (from f's batch) -- replaced by its SAGA estimate from a
// per-sample memory (SampleMemory, distributed like the data). Constant steps by default: its
// headline result is linear convergence at constant steps on strongly convex problems.
//
// The memories are n dim doubles (2.8 GB on hyperclean at 20 000 / 5 000 samples), so they go to
// /state only with -alg_save_memories: a run made with it continues exactly under -restart_from;
// one made without it (the default) writes the rest of its state and refuses a restart, which
// without its memories could not continue the same run.
#include "bilevel/methods/stochastic_bilevel_method.hpp"
#include "bilevel/solvers/sample_memory.hpp"

#include <vector>

namespace bilevel {

class Saba final : public StochasticBilevelMethod {
public:
  struct Config {
    Schedule schedule;
    bool save_memories; ///< write the memories to /state, for exact restarts
    static Config from_options(const RunSpec& run);
  };
  explicit Saba(Config config)
      : StochasticBilevelMethod(config.schedule), save_memories_(config.save_memories) {}

  std::string name() const override { return "saba"; }
  /// Also starts the five memories at zero.
  void setup(Problem& problem, Vec x0) override;
  /// y, v, the draw counters and, with -alg_save_memories, the five memories.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;
  /// Only with its memories saved: without them the run cannot continue exactly.
  std::string why_not_restartable() const override;

protected:
  void iterate(double inner_step, double outer_step, Record& record) override;

private:
  /// The five sampled quantities, in the order of memories_: three of g's samples, two of f's.
  enum Term { lower_grad_y, hess_yy, hess_xy, upper_grad_y, upper_grad_x, kTerms };
  bool save_memories_;
  std::vector<SampleMemory> memories_;
};

} // namespace bilevel
