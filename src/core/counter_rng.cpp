#include "bilevel/core/counter_rng.hpp"

#include <cmath>
#include <numbers>

namespace bilevel {

double CounterRng::normal(std::uint64_t index) const {
  // Two independent uniforms from the even/odd counters of this index; 1 - u keeps log finite.
  const double u1 = 1.0 - uniform(2 * index);
  const double u2 = uniform(2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

} // namespace bilevel
