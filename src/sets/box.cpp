#include "bilevel/sets/box.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/sets/local_map.hpp"

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

void Box::project(Vec u, Vec out) const {
  local_map(
      out, [&](double ui) { return std::clamp(ui, lo_, hi_); }, u);
}

void Box::project_jacobian(Vec u, Vec v, Vec out) const {
  local_map(
      out, [&](double ui, double vi) { return (ui > lo_ && ui < hi_) ? vi : 0.0; }, u, v);
}

void Box::active_mask(Vec u, Vec mask) const {
  local_map(
      mask, [&](double ui) { return (ui > lo_ && ui < hi_) ? 0.0 : 1.0; }, u);
}

bool Box::bounds(Vec lower, Vec upper) const {
  BB_PETSC(VecSet(lower, std::max(lo_, PETSC_NINFINITY)));
  BB_PETSC(VecSet(upper, std::min(hi_, PETSC_INFINITY)));
  return true;
}

} // namespace bilevel
