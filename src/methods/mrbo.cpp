#include "bilevel/methods/mrbo.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

Mrbo::Config Mrbo::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm mrbo");
  return {StormBilevelMethod::Config::from_options(run)};
}

} // namespace bilevel
