#pragma once
// The Euclidean ball {||y|| <= radius}. Distributed: one global norm per operation.
#include "bilevel/sets/constraint_set.hpp"

namespace bilevel {

class Ball final : public ConstraintSet {
public:
  explicit Ball(double radius);
  std::string name() const override;
  void project(Vec u, Vec out) const override;
  /// Inside: v. Outside: (r/||u||)(I - uu'/||u||^2) v. On the sphere the interior branch is used.
  void project_jacobian(Vec u, Vec v, Vec out) const override;
  /// All coordinates are active when u lies outside the ball (the one constraint binds).
  void active_mask(Vec u, Vec mask) const override;

private:
  double radius_;
};

} // namespace bilevel
