#include "bilevel/validation/hypergradient_validation.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace bilevel {

namespace {

constexpr int kDirections = 3;
/// Relative rounding of a closed-form hypergradient: below it times the run's starting norm,
/// the comparison measures rounding.
constexpr double kClosedFormResolution = 1e-8;
constexpr std::uint64_t kDirectionStream = 0x76616c6964617465ULL; // "validate"
const char* const kPrefix = "validate_snesvi_";

double norm(Vec v) {
  PetscReal value = 0;
  BB_PETSC(VecNorm(v, NORM_2, &value));
  return value;
}

/// A unit direction from the counter generator by global index (the same on every rank count).
void random_direction(Vec d, int which) {
  const CounterRng rng(static_cast<std::uint64_t>(which), kDirectionStream);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(d, &begin, &end));
  PetscScalar* p = nullptr;
  BB_PETSC(VecGetArray(d, &p));
  for (PetscInt i = begin; i < end; ++i)
    p[i - begin] = rng.normal(static_cast<std::uint64_t>(i));
  BB_PETSC(VecRestoreArray(d, &p));
  BB_PETSC(VecScale(d, 1.0 / norm(d)));
}

/// Central differences of Phi along kDirections directions, against grad . d, relative to their
/// norm or `floor` (its resolution: 10 lower_tol / h of `start_norm`); NaN if a reference solve
/// missed `lower_tol` (its residual in `worst_residual`).
double central_difference_error(Problem& problem, SnesViSolver& solver, Vec y, Vec x, Vec grad,
                                double lower_tol, double start_norm, double& floor,
                                double& worst_residual) {
  OwnedVec d = duplicate(x), xs = duplicate(x);
  problem.initial_y(x, y);
  const auto phi = [&](double t) {
    BB_PETSC(VecWAXPY(xs, t, d, x));
    const SnesViSolver::Outcome outcome = solver.solve(xs, y, lower_tol);
    if (!outcome.converged)
      worst_residual = std::max(worst_residual, outcome.residual);
    return problem.upper_value(xs, y);
  };
  // h balances the O(h^2) truncation against the reference solve's error over 2h; relative to
  // x's largest entry, not its norm, which grows with the dimension (hyperclean: nx = N_train).
  PetscReal largest = 0;
  BB_PETSC(VecNorm(x, NORM_INFINITY, &largest));
  const double h = 1e-5 * std::max(1.0, largest);
  std::vector<double> method(kDirections), differences(kDirections);
  (void)phi(0.0); // y*(x) first: the +-h solves start next to it
  for (int i = 0; i < kDirections; ++i) {
    random_direction(d, i);
    BB_PETSC(VecDot(grad, d, &method[i]));
    differences[i] = (phi(h) - phi(-h)) / (2 * h);
  }
  double diff = 0, ref = 0;
  for (int i = 0; i < kDirections; ++i) {
    diff += (method[i] - differences[i]) * (method[i] - differences[i]);
    ref += differences[i] * differences[i];
  }
  if (worst_residual > 0)
    return std::numeric_limits<double>::quiet_NaN();
  floor = std::max(kClosedFormResolution, 10 * lower_tol / h) * start_norm;
  return std::sqrt(diff) / std::max({std::sqrt(ref), floor, 1e-300});
}

} // namespace

HypergradientValidation::Settings
HypergradientValidation::Settings::from_options(bool enabled_by_default) {
  OptionSection section("run control");
  Settings s;
  s.enabled = options::get_bool("-validate", enabled_by_default,
                                "at the last iterate, check the hypergradient against the "
                                "closed form or central differences of Phi (/validation)");
  s.tolerance = options::get_real("-validate_tol", 0.0, 0.0, 1e300,
                                  "-validate: error to pass; 0 = the method's documented one");
  s.lower_tolerance =
      options::get_real("-validate_lower_tol", 1e-12, 0.0, 1.0,
                        "-validate: lower residual of the reference solves of y*(x +- h d)");
  SnesViSolver::declare_options(kPrefix);
  return s;
}

HypergradientValidator::HypergradientValidator(Problem& problem,
                                               const HypergradientValidation::Settings& settings,
                                               double documented, bool hypergradient_oracle)
    : problem_(problem), settings_(settings),
      tolerance_(settings.tolerance > 0 ? settings.tolerance : documented),
      hypergradient_oracle_(hypergradient_oracle) {
  const LowerConstraints constraints = problem.structure().constraints;
  const bool bounds_or_unconstrained =
      constraints == LowerConstraints::none || constraints == LowerConstraints::bounds;
  if (!(tolerance_ > 0))
    unavailable_ = "none: the method's estimate is not an approximation of grad Phi to a "
                   "tolerance (randomized, or of a different objective)";
  else if (!problem.structure().exact_hypergradient && !bounds_or_unconstrained)
    unavailable_ = "none: no closed form, and the lower set is not given by bounds";
  else if (!problem.structure().exact_hypergradient) {
    y_ = problem.create_y();
    reference_.emplace(problem, y_, kPrefix);
  }
}

HypergradientValidation HypergradientValidator::check(Algorithm& algorithm, Vec x, Vec estimate,
                                                      double start_norm) {
  if (!std::isfinite(start_norm))
    start_norm = 0.0;
  HypergradientValidation v;
  v.tolerance = tolerance_;
  if (!hypergradient_oracle_) {
    v.reference = "none: the method has no hypergradient estimate";
    return v;
  }
  if (unavailable_) {
    v.reference = unavailable_;
    return v;
  }
  OwnedVec grad = duplicate(x);
  if (estimate) {
    BB_PETSC(VecCopy(estimate, grad));
  } else {
    Record record;
    algorithm.hypergradient(x, grad, record);
  }
  v.applicable = true;
  if (!reference_) {
    v.reference = "closed form";
    OwnedVec truth = duplicate(x);
    problem_.exact_hypergradient(x, truth, nullptr);
    v.floor = kClosedFormResolution * start_norm;
    const double scale = std::max({norm(truth), v.floor, 1e-300});
    BB_PETSC(VecAXPY(grad, -1.0, truth));
    v.error = norm(grad) / scale;
  } else {
    const double lower_tol = settings_.lower_tolerance;
    v.reference = "central differences (" + std::to_string(kDirections) + " directions)";
    double worst_residual = 0;
    v.error = central_difference_error(problem_, *reference_, y_, x, grad, lower_tol, start_norm,
                                       v.floor, worst_residual);
    if (worst_residual > 0) {
      char why[160];
      std::snprintf(why, sizeof why,
                    "none: the reference lower solve reached residual %.1e, not %.0e",
                    worst_residual, lower_tol);
      v.reference = why;
      v.applicable = false;
      v.reference_failed = true;
      return v;
    }
  }
  v.passed = v.error <= v.tolerance;
  return v;
}

void HypergradientValidation::write(hid_t group) const {
  h5::Group out = h5::require_group(group, "validation");
  h5::write_attribute(out, "reference", reference);
  h5::write_attribute(out, "verdict",
                      std::string(!applicable ? "not applicable"
                                  : passed    ? "passed"
                                              : "failed"));
  h5::write_attribute(out, "error", error);
  h5::write_attribute(out, "tolerance", tolerance);
  h5::write_attribute(out, "floor", floor);
}

std::string HypergradientValidation::summary() const {
  if (!applicable)
    return "validation not applicable (" + reference + ")";
  char line[160];
  std::snprintf(line, sizeof line, "hypergradient error %.2e %s %.0e against the %s", error,
                passed ? "<=" : ">", tolerance, reference.c_str());
  return line;
}

} // namespace bilevel
