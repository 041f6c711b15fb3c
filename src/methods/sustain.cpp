#include "bilevel/methods/sustain.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Sustain::Config Sustain::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm sustain");
  return {StormBilevelMethod::Config::from_options(run)};
}

} // namespace bilevel
