#include "bilevel/sets/box.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>
#include <sstream>

namespace bilevel {

Box::Box(double lo, double hi) : lo_(lo), hi_(hi) {
  if (!(lo <= hi))
    throw InputError("box: lower bound " + std::to_string(lo) + " exceeds upper bound " +
                     std::to_string(hi));
}

std::string Box::name() const {
  std::ostringstream out;
  out << "box[" << lo_ << ", " << hi_ << "]";
  return out.str();
}

namespace {

/// Applies `op(u_i, v_i) -> out_i` over this rank's entries.
template <class Op> void local_map(Vec u, Vec v, Vec out, Op op) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar *pu = nullptr, *pv = nullptr;
  PetscScalar* po = nullptr;
  BB_PETSC(VecGetArrayRead(u, &pu));
  if (v != u)
    BB_PETSC(VecGetArrayRead(v, &pv));
  else
    pv = pu;
  // `out` may alias u or v: read the inputs' arrays first, write through the output's.
  BB_PETSC(VecGetArray(out, &po));
  for (PetscInt i = 0; i < n; ++i)
    po[i] = op(pu[i], pv[i]);
  BB_PETSC(VecRestoreArray(out, &po));
  if (v != u)
    BB_PETSC(VecRestoreArrayRead(v, &pv));
  BB_PETSC(VecRestoreArrayRead(u, &pu));
}

} // namespace

void Box::project(Vec u, Vec out) const {
  if (u != out)
    BB_PETSC(VecCopy(u, out));
  local_map(out, out, out, [&](double ui, double) { return std::clamp(ui, lo_, hi_); });
}

void Box::project_jacobian(Vec u, Vec v, Vec out) const {
  local_map(u, v, out, [&](double ui, double vi) { return (ui > lo_ && ui < hi_) ? vi : 0.0; });
}

void Box::active_mask(Vec u, Vec mask) const {
  local_map(u, u, mask, [&](double ui, double) { return (ui > lo_ && ui < hi_) ? 0.0 : 1.0; });
}

bool Box::bounds(Vec lower, Vec upper) const {
  BB_PETSC(VecSet(lower, std::max(lo_, PETSC_NINFINITY)));
  BB_PETSC(VecSet(upper, std::min(hi_, PETSC_INFINITY)));
  return true;
}

} // namespace bilevel
