#pragma once
// The closed-form hypergradient of problems that offer one: the ground truth the approximate
// methods are measured against, and an upper bound on what any method can achieve per step.
#include "bilevel/methods/hypergradient_method.hpp"

namespace bilevel {

class Exact final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    static Config from_options();
  };
  explicit Exact(Config config);

  std::string name() const override { return "exact"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  OwnedVec scratch_grad_;
};

} // namespace bilevel
