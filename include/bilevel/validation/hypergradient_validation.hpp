#pragma once
// -validate: HPCG's idea for hypergradients. At the run's last iterate the method's hypergradient
// is compared with an independent reference the problem offers: its closed form where it has one,
// else central differences of Phi(x) = f(x, y*(x)) along a few seeded random directions, with y*
// from a tight Newton / SNESVI solve (lower levels that are unconstrained or bound-constrained).
// The measured error and the verdict go into the result file's /validation group.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <hdf5.h>

#include <optional>
#include <string>

namespace bilevel {

class Algorithm;
class Problem;

struct HypergradientValidation {
  /// -validate's options (section "run control").
  struct Settings {
    bool enabled = false;
    double tolerance = 0.0;       ///< -validate_tol; 0 = the method's documented error
    double lower_tolerance = 0.0; ///< the reference solve's lower residual
    static Settings from_options(bool enabled_by_default);
  };

  bool applicable = false; ///< false: no hypergradient or no reference (`reference` says why)
  std::string reference;   ///< "closed form", "central differences (3 directions)" or why none
  double error = 0.0;      ///< relative error of the method's hypergradient against it
  double floor = 0.0;      ///< the smallest norm the error is relative to (see check())
  double tolerance = 0.0;  ///< the error the method's settings should reach
  bool passed = true;      ///< error <= tolerance (true when not applicable)
  bool reference_failed = false; ///< the reference's own solve missed its tolerance

  /// Writes /validation's attributes under `group`.
  void write(hid_t group) const;
  /// One line: "hypergradient error 3.1e-09 <= 1e-06 against the closed form".
  std::string summary() const;
};

/// Built before the run, so that the reference solver reads its -validate_snesvi_* options with
/// every other option (an option nobody has read by then is refused as a typo).
class HypergradientValidator {
public:
  /// `documented` is the method's documented error, used unless the settings give a tolerance;
  /// `hypergradient_oracle` whether the method has an estimate to check (both from its
  /// Requirements). The problem's structure says whether Newton / SNESVI can solve y* for
  /// central differences (bounds or unconstrained).
  HypergradientValidator(Problem& problem, const HypergradientValidation::Settings& settings,
                         double documented, bool hypergradient_oracle);
  HypergradientValidator(const HypergradientValidator&) = delete;

  /// The check at x (collective). `estimate`, if given, is the method's hypergradient at x,
  /// already computed; else the method computes it. The error is relative to
  /// max(reference norm, resolution * `start_norm`): `start_norm` is the method's hypergradient
  /// norm at the run's first iterate, and the resolution (1e-8 for a closed form, 10 lower_tol / h
  /// for central differences) is below what the reference can tell from zero, where a run
  /// converged that far would measure rounding, not the method. 0: no floor.
  HypergradientValidation check(Algorithm& algorithm, Vec x, Vec estimate = nullptr,
                                double start_norm = 0.0);

private:
  Problem& problem_;
  HypergradientValidation::Settings settings_;
  double tolerance_;
  OwnedVec y_;                            ///< the reference's y*(x + t d)
  std::optional<SnesViSolver> reference_; ///< central differences' lower solver
  bool hypergradient_oracle_;             ///< the method has an estimate to check
  const char* unavailable_ = nullptr;     ///< why there is no reference, if there is none
};

} // namespace bilevel
