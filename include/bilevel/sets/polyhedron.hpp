#pragma once
// The polyhedron {y : G y <= h, A y = b}, for the small dense sets of QP layers and tests (every
// rank holds G, h, A, b; a distributed Vec is gathered, projected, scattered back).
// Projection: the QP min 1/2||y - u||^2 over the set, solved exactly (to round-off) by the
// Goldfarb-Idnani dual active-set method, which needs no feasible starting point and, for a
// unit Hessian, works with the projector onto the null space of the working set's rows.
#include "bilevel/sets/constraint_set.hpp"

#include <Eigen/Dense>

#include <vector>

namespace bilevel {

class Polyhedron final : public ConstraintSet {
public:
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;

  /// G (m_i x n) with h (m_i), A (m_e x n) with b (m_e); either pair may have zero rows.
  Polyhedron(Matrix G, Vector h, Matrix A, Vector b);
  std::string name() const override;

  struct Projection {
    Vector y;                         ///< P(u)
    std::vector<Eigen::Index> active; ///< inequality rows in the final working set
    Vector inequality_multipliers;    ///< lambda >= 0, one per row of G (0 if inactive)
    Vector equality_multipliers;      ///< nu, one per row of A
  };
  /// Projects a replicated vector; InputError if the set is empty.
  Projection project(const Vector& u) const;

  /// The projection's Jacobian at u applied to v, on replicated vectors.
  Vector project_jacobian(const Vector& u, const Vector& v) const;

  void project(Vec u, Vec out) const override;
  /// The projector onto the null space of the active rows (equalities and active inequalities).
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  /// 1 on the coordinates an active inequality row involves.
  void active_mask(Vec u, Vec mask) const override;

private:
  /// Rows of the working set stacked: equalities first, then the active inequalities.
  Matrix working_rows(const std::vector<Eigen::Index>& active) const;

  Matrix G_, A_;
  Vector h_, b_;
};

} // namespace bilevel
