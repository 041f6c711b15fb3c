#pragma once
// -alg_check_exact: the relative error ||grad - grad Phi|| / ||grad Phi|| of a step's
// hypergradient against the problem's closed form, reported as `hypergrad_error`. The closed
// form is evaluated from Algorithm::report, outside the timed step; the step only keeps a copy of
// the x its hypergradient was taken at (the driver reports after x has moved).
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"

namespace bilevel {

class Problem;

class HypergradientCheck {
public:
  /// Reads -alg_check_exact, in the caller's option section.
  static bool requested();

  /// Throws InputError if the problem has no closed-form hypergradient.
  HypergradientCheck(Problem& problem, Vec x_model, const std::string& algorithm);
  /// Call with the x of the hypergradient, before the outer step moves it.
  void remember(Vec x);
  /// Records `hypergrad_error` for `grad`, the estimate taken at the remembered x.
  void report(Vec grad, Record& record);

private:
  Problem& problem_;
  OwnedVec x_, exact_;
};

} // namespace bilevel
