#include "bilevel/core/record.hpp"

#include <algorithm>
#include <limits>

namespace bilevel {

void Record::set(const std::string& name, double value) {
  for (auto& [key, stored] : entries_)
    if (key == name) {
      stored = value;
      return;
    }
  entries_.emplace_back(name, value);
}

double Record::get(const std::string& name) const {
  for (const auto& [key, stored] : entries_)
    if (key == name)
      return stored;
  return std::numeric_limits<double>::quiet_NaN();
}

bool Record::has(const std::string& name) const {
  for (const auto& entry : entries_)
    if (entry.first == name)
      return true;
  return false;
}

void Record::solve(const std::string& solver, bool converged, double iterations, long long solves) {
  solves_ += solves;
  set(solver + "_converged", converged ? 1.0 : 0.0);
  set(solver + "_iterations", iterations);
  if (!converged && std::find(failures_.begin(), failures_.end(), solver) == failures_.end())
    failures_.push_back(solver);
}

} // namespace bilevel
