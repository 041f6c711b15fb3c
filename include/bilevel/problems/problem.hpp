#pragma once
// A bilevel (or VI-constrained) instance: it owns its data, lays out x and y, and evaluates the
// oracles of docs/algorithms.md §1.2. It never knows which algorithm runs. Vec arguments are
// borrowed; an output Vec passed as nullptr is not computed. Everything is collective on comm().
// What the instance offers beyond the mandatory oracles is its structure(): a caller asks it
// before using an optional oracle (g, the closed form) or interface (problems/interfaces.hpp);
// the optional oracles' defaults throw, unreachable from a caller that asked.
#include "bilevel/core/oracle_counts.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/problems/problem_structure.hpp"

#include <hdf5.h>

#include <string>

namespace bilevel {

class ConstraintSet;
enum class SampleRole; // problems/finite_sum.hpp

/// Estimates of the lower level's curvature in y: strong convexity (monotonicity) mu and
/// Lipschitz constant L of grad_y g (of F for a VI).
struct Curvature {
  double mu;
  double lipschitz;
};

/// Which curvature constants a caller needs. Step sizes need only L; the default estimate's
/// second power iteration (for mu) doubles its cost, which on a large data set is seconds.
enum class CurvatureNeed { lipschitz, both };

class Problem {
public:
  explicit Problem(MPI_Comm comm) : comm_(comm) {}
  virtual ~Problem() = default;
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;

  MPI_Comm comm() const { return comm_; }
  /// The run's cumulative oracle calls on this instance (core/oracle_counts.hpp).
  OracleCounts& oracle_counts() const { return counts_; }
  virtual std::string name() const = 0;
  virtual PetscInt nx() const = 0;
  virtual PetscInt ny() const = 0;
  virtual OwnedVec create_x() const = 0;
  virtual OwnedVec create_y() const = 0;
  virtual void initial_x(Vec x) const = 0;
  /// The class's declared kStructure (the catalog registers the same constant).
  virtual const ProblemStructure& structure() const = 0;
  /// Starting lower iterate; zero unless the problem knows better.
  virtual void initial_y(Vec x, Vec y) const;

  // ---- The oracles. Each call counts once in oracle_counts() under its kind (values of f and g:
  // function_value; grad f; grad g and F: lower_gradient; grad^2_yy g v and grad_y F products:
  // hessian_vector; the x-derivatives of grad_y g and F: cross_derivative), touching the sum's
  // samples when the structure declares finite_sum; then the subclass's evaluate_* runs.

  // ---- upper level f(x, y)
  double upper_value(Vec x, Vec y);
  void upper_gradient(Vec x, Vec y, Vec gx, Vec gy);

  // ---- lower level g(x, y), when structure().form is objective.
  double lower_value(Vec x, Vec y);
  void lower_gradient(Vec x, Vec y, Vec gx, Vec gy);
  /// out = grad^2_yy g v
  void lower_hess_yy(Vec x, Vec y, Vec v, Vec out);
  /// out_x = d_x(grad_y g)^T v, an nx-vector
  void lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x);
  /// out_y = d_x(grad_y g) w, an ny-vector
  void lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y);

  // ---- VI map F(y, x) and its products; by default F = grad_y g.
  void vi_map(Vec x, Vec y, Vec out);
  void vi_jac_y(Vec x, Vec y, Vec v, Vec out);
  void vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out);
  void vi_jac_x(Vec x, Vec y, Vec w, Vec out_y);
  void vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x);

  // ---- constraint sets: null exactly when the structure declares none (lower: constraints none
  // or layers; upper: !upper_constrained), which check_declared_structure enforces.
  virtual const ConstraintSet* lower_set() const { return nullptr; }
  virtual const ConstraintSet* upper_set() const { return nullptr; }

  /// Curvature estimates at (x, y). The default runs power iterations on vi_jac_y, the one for
  /// mu only when `need` asks for it (else mu = 0, a valid lower bound); problems with known
  /// constants override it and may ignore `need`.
  virtual Curvature lower_curvature(Vec x, Vec y, CurvatureNeed need);

  /// The lower-level residual reported as `lower_residual`: ||y - P_Y(y - F(y, x))|| (the
  /// natural residual; ||grad_y g|| when unconstrained). VI problems may report the D-gap.
  virtual double lower_residual(Vec x, Vec y);

  /// A hint from a method that will evaluate lower Hessian-vector products at the last `points`
  /// lower iterates where it evaluated the lower gradient (ITD's reverse sweep), given once at
  /// set-up: a problem whose products can reuse what its gradient computed keeps it. Results are
  /// the same to the bit with or without it; by default it is ignored.
  virtual void expect_lower_trajectory([[maybe_unused]] int points) {}

  // ---- ground truth, when structure().exact_hypergradient
  /// grad Phi(x) and y*(x).
  virtual void exact_hypergradient(Vec x, Vec grad, Vec y_star);

  /// Problem-specific metrics (validation loss, test accuracy, ...), outside the timed region.
  virtual void report_metrics(Vec x, Vec y, Record& record);

  /// Writes the instance's data under `group` (docs/result-format.md names the datasets).
  virtual void export_data(hid_t group) const;

protected:
  // What the public oracles above evaluate, uncounted; an implementation that needs another
  // oracle calls its evaluate_* (the public one would count that call a second time).
  virtual double evaluate_upper_value(Vec x, Vec y) = 0;
  virtual void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) = 0;
  virtual double evaluate_lower_value(Vec x, Vec y);
  virtual void evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy);
  virtual void evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out);
  virtual void evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x);
  virtual void evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y);
  virtual void evaluate_vi_map(Vec x, Vec y, Vec out);
  virtual void evaluate_vi_jac_y(Vec x, Vec y, Vec v, Vec out);
  virtual void evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out);
  virtual void evaluate_vi_jac_x(Vec x, Vec y, Vec w, Vec out_y);
  virtual void evaluate_vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x);

private:
  /// One call of `kind` on the sum of `role` (its samples when the problem is a finite sum).
  void count(OracleKind kind, SampleRole role) const;

  MPI_Comm comm_;
  mutable OracleCounts counts_;
};

} // namespace bilevel
