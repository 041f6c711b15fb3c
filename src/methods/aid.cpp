#include "bilevel/methods/aid.hpp"

#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

namespace bilevel {

Aid::Config Aid::Config::from_options() {
  OptionSection section("algorithm aid");
  Config c{};
  c.outer = OuterStepConfig::from_options();
  c.inner = InnerSteps::from_options("inner gradient steps T per outer step");
  HessianSolver::declare_options(); // read by the solver's KSP at setup
  return c;
}

void Aid::setup(Problem& problem, Vec x0) {
  ImplicitDifferentiation::setup(problem, x0);
  solver_ = std::make_unique<HessianSolver>(problem, y_);
}

void Aid::adjoint(Vec x, Vec y, Vec rhs, Vec v, Record& record) {
  HessianSolver::Outcome solve{};
  {
    LogScope scope(log_events().linear_solve);
    solve = solver_->solve(x, y, rhs, v);
  }
  record.solve("ksp", solve.converged, static_cast<double>(solve.iterations));
}

void Aid::save_state(hid_t group) const {
  HypergradientMethod::save_state(group);
  h5::write_vec(group, "v", v_);
}

void Aid::load_state(hid_t group) {
  HypergradientMethod::load_state(group);
  h5::read_vec(group, "v", v_);
}

} // namespace bilevel
