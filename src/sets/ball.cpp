#include "bilevel/sets/ball.hpp"

#include "bilevel/core/error.hpp"

#include <sstream>

namespace bilevel {

Ball::Ball(double radius) : radius_(radius) {
  if (!(radius > 0))
    throw InputError("ball: radius " + std::to_string(radius) + "; accepted: > 0");
}

std::string Ball::name() const {
  std::ostringstream out;
  out << "ball(" << radius_ << ")";
  return out.str();
}

void Ball::project(Vec u, Vec out) const {
  PetscReal norm = 0;
  BB_PETSC(VecNorm(u, NORM_2, &norm));
  if (u != out)
    BB_PETSC(VecCopy(u, out));
  if (norm > radius_)
    BB_PETSC(VecScale(out, radius_ / norm));
}

void Ball::project_jacobian(Vec u, Vec v, Vec out) const {
  PetscReal norm = 0;
  BB_PETSC(VecNorm(u, NORM_2, &norm));
  if (norm <= radius_) {
    if (v != out)
      BB_PETSC(VecCopy(v, out));
    return;
  }
  PetscScalar uv = 0;
  BB_PETSC(VecDot(u, v, &uv));
  // (r/|u|) (v - u (u'v)/|u|^2); out may alias v but not u.
  BB_PETSC(VecAXPBY(out, radius_ / norm, 0.0, v));
  BB_PETSC(VecAXPY(out, -radius_ * uv / (norm * norm * norm), u));
}

void Ball::active_mask(Vec u, Vec mask) const {
  PetscReal norm = 0;
  BB_PETSC(VecNorm(u, NORM_2, &norm));
  BB_PETSC(VecSet(mask, norm > radius_ ? 1.0 : 0.0));
}

} // namespace bilevel
