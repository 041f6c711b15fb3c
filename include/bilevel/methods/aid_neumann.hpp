#pragma once
// AID with a Neumann-series adjoint (docs/algorithms.md §2.6; Ghadimi & Wang 2018, Ji, Yang &
// Liang 2021): the implicit-differentiation scheme with v = eta sum_{k < Q} (I - eta H)^k grad_y f
// (the shared NeumannSeries, eta the inner step). Its error is (1 - eta mu)^Q by construction:
// there is no tolerance to miss, so the trace records no solver outcome.
#include "bilevel/methods/implicit_differentiation.hpp"
#include "bilevel/solvers/neumann_series.hpp"

#include <memory>

namespace bilevel {

class AidNeumann final : public ImplicitDifferentiation {
public:
  struct Config {
    OuterStepConfig outer;
    InnerSteps inner;
    int terms; ///< Q
    static Config from_options();
  };
  explicit AidNeumann(Config config)
      : ImplicitDifferentiation(config.outer, config.inner), terms_(config.terms) {}

  std::string name() const override { return "aid_neumann"; }
  void setup(Problem& problem, Vec x0) override;

protected:
  void adjoint(Vec x, Vec y, Vec rhs, Vec v, Record& record) override;

private:
  int terms_;
  std::unique_ptr<NeumannSeries> series_;
};

} // namespace bilevel
