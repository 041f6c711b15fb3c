#pragma once
// Counter-based random numbers: the value for (seed, stream, index) is a pure function of the
// three, so data generated on any rank layout is identical, which is what lets the same run on 1,
// 2 and 4 ranks produce the same trace.
#include <cstdint>

namespace bilevel {

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche behaviour.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class CounterRng {
public:
  constexpr CounterRng(std::uint64_t seed, std::uint64_t stream)
      : key_(mix64(seed ^ mix64(stream + 0x632be59bd9b4e019ULL))) {}
  /// Uniform in [0, 1) with 53 random bits.
  double uniform(std::uint64_t index) const {
    return static_cast<double>(mix64(key_ ^ mix64(index)) >> 11) * 0x1.0p-53;
  }
  /// Uniform in [lo, hi).
  double uniform(std::uint64_t index, double lo, double hi) const {
    return lo + (hi - lo) * uniform(index);
  }
  /// Standard normal by Box-Muller on two counter draws.
  double normal(std::uint64_t index) const;

private:
  std::uint64_t key_;
};

} // namespace bilevel
