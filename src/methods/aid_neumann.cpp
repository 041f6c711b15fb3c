#include "bilevel/methods/aid_neumann.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

AidNeumann::Config AidNeumann::Config::from_options() {
  OptionSection section("algorithm aid_neumann");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner = InnerSteps::from_options("inner gradient steps T per outer step");
  c.terms = static_cast<int>(options::get_int(
      "-alg_neumann_terms", 100, 1, 100000000,
      "terms Q of the Neumann series (Q - 1 Hessian products; error (1 - eta mu)^Q)"));
  return c;
}

void AidNeumann::setup(Problem& problem, Vec x0) {
  ImplicitDifferentiation::setup(problem, x0);
  series_ = std::make_unique<NeumannSeries>(y_);
}

void AidNeumann::adjoint(Vec x, Vec y, Vec rhs, Vec v, Record& /*no tolerance to report*/) {
  series_->apply(problem(), x, y, rhs, terms_, inner_eta(), v);
}

} // namespace bilevel
