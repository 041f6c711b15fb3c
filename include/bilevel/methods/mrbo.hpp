#pragma once
// MRBO (Yang, Ji & Liang, NeurIPS 2021): STORM estimates of the inner gradient and of the
// Neumann-series hypergradient, the series summed over its Q partial products.
// The update is StormBilevelMethod's (docs/algorithms.md, "Stochastic bilevel solvers").
#include "bilevel/methods/storm_bilevel_method.hpp"

namespace bilevel {

class Mrbo final : public StormBilevelMethod {
public:
  struct Config : StormBilevelMethod::Config {
    static Config from_options(const RunSpec& run);
  };
  explicit Mrbo(const Config& config) : StormBilevelMethod(config, /*random_length=*/false) {}

  std::string name() const override { return "mrbo"; }
};

} // namespace bilevel
