#pragma once
// The minibatch oracle kernel of the stochastic solvers (docs/algorithms.md §10.1): one
// MinibatchOracles::means call with SOBA's request (grad_y g, grad^2_yy g v and d_x(grad_y g)'v
// on a batch of g; grad_x f and grad_y f on a batch of f; the call SOBA, SABA and SRBA make every
// step), a fresh batch of 64 per call, on finite_sum_quadratic at the benchmark's size and on
// hyper-cleaning in the benchmark's setting. Reported as samples per second per rank and against
// the bandwidth bound of the bytes the call must read (docs/stochastic-benchmark.md).
#include "harness.hpp"

#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/minibatch_oracles.hpp"
#include "bilevel/solvers/minibatch_sampler.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <memory>
#include <string>

namespace bench {

class MinibatchKernel {
public:
  static constexpr long long kBatch = 64;

  /// `problem` a finite-sum problem (finite_sum_quadratic or hyperclean: the byte and flop
  /// models are theirs).
  explicit MinibatchKernel(std::unique_ptr<bilevel::Problem> problem);

  /// One call on the next batches of both sums.
  void operator()();

  /// Bytes the call must read at least (each batch sample's data once, and the replicated y and
  /// v on every rank) and the flops of its products; see the problem's model in the .cpp.
  Cost cost() const { return cost_; }
  /// Sample rows evaluated per call: the batch of g and the batch of f.
  static constexpr double samples_per_call() { return 2.0 * kBatch; }

private:
  std::unique_ptr<bilevel::Problem> problem_;
  bilevel::MinibatchOracles oracles_;
  bilevel::MinibatchSampler lower_, upper_;
  Eigen::VectorXd x_, y_, v_;
  std::uint64_t draw_ = 0;
  Cost cost_{};
};

/// Registers minibatch/<problem> for each kernel: the harness's bounds and counters, and
/// samples_per_second_per_rank.
void register_minibatch_benchmark(MPI_Comm comm, const std::string& name, MinibatchKernel& kernel,
                                  int iterations, const Limits& limits);

} // namespace bench
