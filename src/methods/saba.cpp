#include "bilevel/methods/saba.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/core/packed_allreduce.hpp"

#include <tuple>

namespace bilevel {

namespace {
// The memories' dataset names under /state, in the order of Saba::Term.
constexpr const char* kNames[] = {"memory_lower_grad_y", "memory_hess_yy", "memory_hess_xy",
                                  "memory_upper_grad_y", "memory_upper_grad_x"};
} // namespace

Saba::Config Saba::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm saba");
  // Constant steps, as the reference benchmark and the linear-convergence theorem use.
  Config c{Schedule::from_options(run, 0.0, 0.0), false};
  c.save_memories = options::get_bool(
      "-alg_save_memories", false,
      "write the per-sample memories (samples x dim doubles) to /state at every checkpoint, so "
      "that -restart_from continues the run exactly; without it the run cannot be restarted");
  return c;
}

void Saba::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  const FiniteSumProblem& sums = oracles().sums();
  const auto memory = [&](SampleRole role, Eigen::Index dim, XLayout layout) {
    return SampleMemory(sums.local_samples(role), sums.samples(role), dim, layout);
  };
  const Eigen::Index nx = problem.nx(), ny = problem.ny();
  const XLayout lower_x = sums.x_layout(SampleRole::lower),
                upper_x = sums.x_layout(SampleRole::upper);
  memories_.clear();
  for (const auto& [role, dim, layout] : {std::tuple{SampleRole::lower, ny, XLayout::dense},
                                          {SampleRole::lower, ny, XLayout::dense},
                                          {SampleRole::lower, nx, lower_x},
                                          {SampleRole::upper, ny, XLayout::dense},
                                          {SampleRole::upper, nx, upper_x}})
    memories_.push_back(memory(role, dim, layout));
}

void Saba::iterate(double inner_step, double outer_step, Record&) {
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const SampleTerms t =
      oracles().terms(x_, y_, MinibatchRequest::soba_directions(lower, upper, v_));
  std::vector<SampleMemory::Staged> staged = {
      memories_[lower_grad_y].stage(t.lower_owned, t.lower_grad_y),
      memories_[hess_yy].stage(t.lower_owned, t.hess_yy),
      memories_[hess_xy].stage(t.lower_owned, t.hess_xy),
      memories_[upper_grad_y].stage(t.upper_owned, t.upper_grad_y),
      memories_[upper_grad_x].stage(t.upper_owned, t.upper_grad_x)};
  PackedAllreduce sum(oracles().comm());
  for (SampleMemory::Staged& s : staged) {
    sum.add(s.direction);
    sum.add(s.mean_change);
  }
  sum.reduce(); // all five memories' sums in one reduction
  Vector d[kTerms];
  for (int k = 0; k < kTerms; ++k)
    d[k] = memories_[k].finish(
        staged[k], static_cast<long long>(k < upper_grad_y ? lower.size() : upper.size()));
  y_ -= inner_step * d[lower_grad_y];
  v_ -= inner_step * (d[hess_yy] + d[upper_grad_y]);
  x_ -= outer_step * (d[hess_xy] + d[upper_grad_x]);
}

void Saba::save_state(hid_t group) const {
  StochasticBilevelMethod::save_state(group);
  if (!save_memories_)
    return;
  for (int k = 0; k < kTerms; ++k)
    memories_[k].save(problem().comm(), group, kNames[k]);
}

std::string Saba::why_not_restartable() const {
  return save_memories_ ? ""
                        : "the run's SABA memories were not saved, so it cannot be continued "
                          "exactly (make runs to be restarted with -alg_save_memories)";
}

void Saba::load_state(hid_t group) {
  // Only files with the memories get here: StoredRun refuses the others (/state@restartable).
  StochasticBilevelMethod::load_state(group);
  for (int k = 0; k < kTerms; ++k)
    memories_[k].load(problem().comm(), group, kNames[k]);
}

} // namespace bilevel
