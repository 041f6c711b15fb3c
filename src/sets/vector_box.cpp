#include "bilevel/sets/vector_box.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/sets/local_map.hpp"

#include <algorithm>

namespace bilevel {

VectorBox::VectorBox(Vec lower, Vec upper) : lower_(duplicate(lower)), upper_(duplicate(upper)) {
  BB_PETSC(VecCopy(lower, lower_));
  BB_PETSC(VecCopy(upper, upper_));
}

void VectorBox::project(Vec u, Vec out) const {
  local_map(
      out, [](double ui, double lo, double hi) { return std::clamp(ui, lo, hi); }, u, lower_.get(),
      upper_.get());
}

void VectorBox::project_jacobian(Vec u, Vec v, Vec out) const {
  local_map(
      out,
      [](double ui, double vi, double lo, double hi) { return (ui > lo && ui < hi) ? vi : 0.0; }, u,
      v, lower_.get(), upper_.get());
}

void VectorBox::active_mask(Vec u, Vec mask) const {
  local_map(
      mask, [](double ui, double lo, double hi) { return (ui > lo && ui < hi) ? 0.0 : 1.0; }, u,
      lower_.get(), upper_.get());
}

bool VectorBox::bounds(Vec lower, Vec upper) const {
  BB_PETSC(VecCopy(lower_, lower));
  BB_PETSC(VecCopy(upper_, upper));
  return true;
}

} // namespace bilevel
