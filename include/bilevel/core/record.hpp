#pragma once
// One outer iteration's named scalar metrics, in the order they were first set. The driver adds
// the contract's columns (iteration, time, ...); algorithms and problems add their own.
#include <string>
#include <utility>
#include <vector>

namespace bilevel {

class Record {
public:
  /// Sets `name` to `value`, appending the name if it is new.
  void set(const std::string& name, double value);
  /// The value of `name`, or NaN if it was never set.
  double get(const std::string& name) const;
  bool has(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& entries() const { return entries_; }
  void clear() { entries_.clear(); }

private:
  std::vector<std::pair<std::string, double>> entries_;
};

} // namespace bilevel
