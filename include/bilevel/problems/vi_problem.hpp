#pragma once
// Base of the VI-constrained instances (docs/algorithms.md §3.1): the lower level is a map F(y, x)
// on a set Y, with no objective (structure().form is vi), and the reported lower residual is
// the D-gap phi_ab (d_gap.hpp) instead of the natural residual. Subclasses supply F, its four
// products, Y and the curvature constants (the default power iteration assumes a symmetric
// Jacobian, which a VI's need not be).
#include "bilevel/problems/d_gap.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

class ViProblem : public Problem {
public:
  /// phi_ab(y, x) >= 0, zero exactly at the VI's solution.
  double lower_residual(Vec x, Vec y) override;
  const DGap& d_gap() const { return gap_; }

  Curvature lower_curvature(Vec x, Vec y, CurvatureNeed need) override = 0;
  /// grad_y F as an assembled matrix, when structure().constant_vi_jacobian (it does not depend
  /// on (y, x)), so a Newton-type solver (SnesViSolver) can precondition it; the default throws.
  virtual Mat constant_jacobian_y() const;

protected:
  // The VI map and its products must be the subclass's own (the defaults differentiate g).
  void evaluate_vi_map(Vec x, Vec y, Vec out) override = 0;
  void evaluate_vi_jac_y(Vec x, Vec y, Vec v, Vec out) override = 0;
  void evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) override = 0;
  void evaluate_vi_jac_x(Vec x, Vec y, Vec w, Vec out_y) override = 0;
  void evaluate_vi_jac_x_transpose(Vec x, Vec y, Vec v, Vec out_x) override = 0;

  ViProblem(MPI_Comm comm, DGap gap) : Problem(comm), gap_(gap) {}

private:
  DGap gap_;
};

} // namespace bilevel
