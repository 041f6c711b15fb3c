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

  /// Records how an inner solve that has a tolerance ended (Krylov, QP, SNESVI, TAO, a
  /// first-order loop run to a tolerance): `<solver>_converged` (1 or 0) and
  /// `<solver>_iterations`. A solve that missed its tolerance is also listed in failures(), which
  /// the driver turns into the row's `inner_ok` flag and the run's validity. `solves` is how
  /// many solves the report stands for, over all ranks (a minibatch's QPs report once for the
  /// batch); the driver counts them as the row's inner solves (core/oracle_counts.hpp).
  void solve(const std::string& solver, bool converged, double iterations, long long solves = 1);
  /// The solvers that missed their tolerance in this record, each named once.
  const std::vector<std::string>& failures() const { return failures_; }
  /// The inner solves reported through solve() since the last clear().
  long long solves() const { return solves_; }

  void clear() {
    entries_.clear();
    failures_.clear();
    solves_ = 0;
  }

private:
  std::vector<std::pair<std::string, double>> entries_;
  std::vector<std::string> failures_;
  long long solves_ = 0;
};

} // namespace bilevel
