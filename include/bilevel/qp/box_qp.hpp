#pragma once
// A distributed bound-constrained QP (the FFO-layer paper's large lower level, docs/algorithms.md
// §6.7):
//   min_y 1/2 y'Hy - q'y  s.t.  lower <= y <= upper,
// H symmetric positive definite, an assembled Mat in y's layout, everything distributed by rows.
// What a solver returns for it, and the quantities at a solution that the solver, the
// hypergradient oracles and the tests share: the bound multipliers read off the gradient, the
// free rows by slack (FFOLayer's rule) and the projected-gradient optimality measure.
#include "bilevel/core/petsc_handle.hpp"

#include <optional>
#include <string>

namespace bilevel {

/// Borrowed data of one QP.
struct BoxQp {
  Mat H;
  Vec q, lower, upper;
};

enum class BoxQpStatus {
  kConverged,        ///< relative projected gradient within the tolerance
  kNotConverged,     ///< the solver stopped first; y is its last (feasible, finite) iterate
  kInfeasibleBounds, ///< lower_i > upper_i somewhere; y is left unchanged
  kNumericalError,   ///< the solver produced a non-finite iterate; y is the feasible start
};
std::string to_string(BoxQpStatus status);

struct BoxQpResult {
  BoxQpStatus status;
  PetscInt iterations;
  double projected_gradient; ///< ||P(y - g) - y||_2 / max(||q||_2, 1e-300)
};

/// A solver of BoxQp (box_qp_solver.hpp makes the one -<prefix>lower_solver names).
class BoxQpSolver {
public:
  virtual ~BoxQpSolver() = default;
  /// Solves from y (projected onto the box first) in place; `gradient` receives H y - q.
  virtual BoxQpResult solve(const BoxQp& qp, Vec y, Vec gradient) = 0;
  /// The name under which a run's record reports the solve.
  virtual std::string name() const = 0;
};

/// gradient = H y - q.
void box_qp_gradient(const BoxQp& qp, Vec y, Vec gradient);
/// The multipliers of stationarity H y - q = lambda_lower - lambda_upper: the positive and the
/// negative part of the gradient (at a solution only bound rows carry either).
void bound_multipliers(Vec gradient, Vec lambda_lower, Vec lambda_upper);
/// ||P(y - gradient) - y||_2, P the projection onto the box.
double projected_gradient_norm(const BoxQp& qp, Vec y, Vec gradient);
/// Global indices (this rank's part) of the rows whose slack to both bounds exceeds tau.
OwnedIS free_rows(const BoxQp& qp, Vec y, double tau);
/// Number of entries with lower_i > upper_i (collective).
PetscInt crossed_bounds(const BoxQp& qp);

/// What every solver does before it iterates: nothing if the bounds cross (returns nullopt);
/// else projects y onto the box, keeps it in `start` and returns the scale of the relative
/// stopping test, max(||q||_2, 1e-300).
std::optional<double> begin_box_qp_solve(const BoxQp& qp, Vec y, Vec start);
/// What every solver does after it iterates, on the iterations and status it ends with
/// (not_converged or converged): a non-finite y is replaced by `start` (numerical_error); y is
/// projected onto the box; gradient = H y - q; the result's projected gradient is measured
/// relative to `scale`, and the status is converged exactly when that is within rtol.
BoxQpResult finish_box_qp_solve(const BoxQp& qp, Vec y, Vec gradient, Vec start, double scale,
                                double rtol, PetscInt iterations);

} // namespace bilevel
