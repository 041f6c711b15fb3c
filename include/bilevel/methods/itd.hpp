#pragma once
// ITD (iterative differentiation, reverse mode): unroll T inner gradient steps from the warm
// start and back-propagate through them (docs/algorithms.md §2.3). Memory O(T ny).
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/inner_step.hpp"
#include "bilevel/solvers/lower_gradient_descent.hpp"

#include <memory>
#include <vector>

namespace bilevel {

class Itd final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    InnerSteps inner;
    bool warm_start;
    static Config from_options();
  };
  explicit Itd(Config config);

  std::string name() const override { return "itd"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  Config config_;
  double eta_ = 0.0;
  std::unique_ptr<LowerGradientDescent> inner_;
  std::vector<OwnedVec> history_;
  OwnedVec y_start_, w_, hw_, gx_acc_, gx_tmp_;
};

} // namespace bilevel
