#include "bilevel/solvers/minibatch_sampler.hpp"

#include "bilevel/core/counter_rng.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace bilevel {

namespace {
// Counter streams of the minibatch draws, apart from the data generators' streams.
constexpr std::uint64_t kStream[] = {0x6d62'6c6f'7765'7200ULL, 0x6d62'7570'7065'7200ULL};
} // namespace

MinibatchSampler::MinibatchSampler(long long seed, SampleRole role, long long samples,
                                   long long batch_size)
    : seed_(seed), role_(role), samples_(samples), batch_size_(std::min(batch_size, samples)) {
  if (samples <= 0 || batch_size <= 0)
    throw std::invalid_argument("MinibatchSampler needs samples > 0 and batch_size > 0");
}

std::vector<long long> MinibatchSampler::draw(std::uint64_t k) const {
  std::vector<long long> batch(static_cast<std::size_t>(batch_size_));
  if (batch_size_ == samples_) {
    std::iota(batch.begin(), batch.end(), 0LL);
    return batch;
  }
  const CounterRng rng(static_cast<std::uint64_t>(seed_), kStream[static_cast<int>(role_)]);
  const auto first = k * static_cast<std::uint64_t>(batch_size_);
  for (std::size_t i = 0; i < batch.size(); ++i)
    batch[i] = std::min(samples_ - 1, static_cast<long long>(rng.uniform(first + i) *
                                                             static_cast<double>(samples_)));
  return batch;
}

} // namespace bilevel
