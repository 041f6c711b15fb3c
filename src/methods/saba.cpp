#include "bilevel/methods/saba.hpp"

#include "bilevel/core/options.hpp"
#include "bilevel/core/packed_allreduce.hpp"

namespace bilevel {

namespace {
// The memories' dataset names under /state, in the order of Saba::Term.
constexpr const char* kNames[] = {"memory_lower_grad_y", "memory_hess_yy", "memory_hess_xy",
                                  "memory_upper_grad_y", "memory_upper_grad_x"};
} // namespace

Saba::Config Saba::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm saba");
  // Constant steps, as the reference benchmark and the linear-convergence theorem use.
  return {Schedule::from_options(run, 0.0, 0.0)};
}

void Saba::setup(Problem& problem, Vec x0) {
  StochasticBilevelMethod::setup(problem, x0);
  const FiniteSumProblem& sums = oracles().sums();
  const auto memory = [&](SampleRole role, Eigen::Index dim) {
    return SampleMemory(sums.local_samples(role), sums.samples(role), dim);
  };
  const Eigen::Index nx = problem.nx(), ny = problem.ny();
  memories_.clear();
  for (const auto& [role, dim] : {std::pair{SampleRole::lower, ny},
                                  {SampleRole::lower, ny},
                                  {SampleRole::lower, nx},
                                  {SampleRole::upper, ny},
                                  {SampleRole::upper, nx}})
    memories_.push_back(memory(role, dim));
}

void Saba::iterate(double inner_step, double outer_step, Record&) {
  const std::vector<long long> lower = draw(SampleRole::lower), upper = draw(SampleRole::upper);
  const SampleTerms t =
      oracles().terms(x_, y_, MinibatchRequest::soba_directions(lower, upper, v_));
  const Eigen::MatrixXd* columns[kTerms] = {&t.lower_grad_y, &t.hess_yy, &t.hess_xy,
                                            &t.upper_grad_y, &t.upper_grad_x};
  std::vector<SampleMemory::Staged> staged;
  PackedAllreduce sum(oracles().comm());
  for (int k = 0; k < kTerms; ++k)
    staged.push_back(
        memories_[k].stage(k < upper_grad_y ? t.lower_owned : t.upper_owned, *columns[k]));
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
  for (int k = 0; k < kTerms; ++k)
    memories_[k].save(problem().comm(), group, kNames[k]);
}

void Saba::load_state(hid_t group) {
  StochasticBilevelMethod::load_state(group);
  for (int k = 0; k < kTerms; ++k)
    memories_[k].load(problem().comm(), group, kNames[k]);
}

} // namespace bilevel
