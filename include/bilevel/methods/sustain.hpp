#pragma once
// SUSTAIN (Khanduri et al., NeurIPS 2021): STORM momentum at both levels, the
// hypergradient's series one product of random length (Ghadimi & Wang's).
// The update is StormBilevelMethod's (docs/algorithms.md, "Stochastic bilevel solvers").
#include "bilevel/methods/storm_bilevel_method.hpp"

namespace bilevel {

class Sustain final : public StormBilevelMethod {
public:
  struct Config : StormBilevelMethod::Config {
    static Config from_options(const RunSpec& run);
  };
  explicit Sustain(const Config& config) : StormBilevelMethod(config, /*random_length=*/true) {}

  std::string name() const override { return "sustain"; }
};

} // namespace bilevel
