#pragma once
// Minibatches drawn from the counter-based generator: the k-th batch of a role is a pure
// function of (seed, role, k), so every rank draws the same batch without communication and a
// run draws the same sequence at any rank count, and after a restart (the caller keeps k).
#include "bilevel/problems/finite_sum.hpp"

#include <cstdint>
#include <vector>

namespace bilevel {

class MinibatchSampler {
public:
  /// Batches of `batch_size` global indices of `role`'s `samples` (drawn with replacement, as
  /// the stochastic solvers' analyses assume); `batch_size` >= samples gives the full sum.
  MinibatchSampler(long long seed, SampleRole role, long long samples, long long batch_size);

  /// The k-th batch: uniform indices in [0, samples), or every index once when the batch is
  /// the full sum.
  std::vector<long long> draw(std::uint64_t k) const;

  long long batch_size() const { return batch_size_; }
  long long samples() const { return samples_; }

private:
  long long seed_;
  SampleRole role_;
  long long samples_;
  long long batch_size_;
};

} // namespace bilevel
