#pragma once
// A run's cumulative oracle calls, by kind, and the samples they touched: the x-axis on which
// methods compare independently of time (the stochastic solvers' analyses count these, not
// seconds). The Problem owns one: its full-batch oracles count themselves, the minibatch oracles
// (solvers/minibatch_oracles.hpp) count a batch of b samples as one call touching b samples, and
// the driver counts the inner solves each step reported. The counts are global (the same on
// every rank), so the trace columns do not depend on the rank count.
#include "bilevel/core/record.hpp"

#include <mpi.h>

#include <array>

namespace bilevel {

enum class OracleKind {
  upper_gradient,   ///< grad f (x- and y-parts of one evaluation count once)
  lower_gradient,   ///< grad g, or the VI map F
  hessian_vector,   ///< grad^2_yy g v, or grad_y F v / its transpose
  cross_derivative, ///< d_x(grad_y g)' v or d_x(grad_y g) w, or the VI map's x-derivatives
  inner_solve,      ///< an inner solve that reported its outcome (Record::solve)
  function_value,   ///< a value of f or g (line searches, switching tests)
};
inline constexpr int kOracleKinds = 6;

class OracleCounts {
public:
  /// One call of `kind` that touched `samples` samples (0 where the problem is not a sum).
  void add(OracleKind kind, long long samples = 0) { add_calls(kind, 1, samples); }
  /// `calls` calls of `kind` that touched `samples` samples in all.
  void add_calls(OracleKind kind, long long calls, long long samples = 0) {
    calls_[static_cast<int>(kind)] += calls;
    samples_ += samples;
  }
  long long calls(OracleKind kind) const { return calls_[static_cast<int>(kind)]; }
  long long samples() const { return samples_; }

  /// The calls and samples counted since `earlier` (a copy of these counts taken before).
  OracleCounts since(const OracleCounts& earlier) const;
  OracleCounts& operator+=(const OracleCounts& other);
  /// The sum over the ranks of `comm` (collective), for counts that ranks made apart.
  OracleCounts summed_over(MPI_Comm comm) const;

  /// The trace column of `kind` (`calls_<kind>`).
  static const char* column(OracleKind kind);
  /// The trace column of the samples touched.
  static constexpr const char* kSamplesColumn = "samples";

  /// Sets the cumulative `calls_*` columns in `record`, and `samples` with `samples_column`
  /// (problems that are not finite sums touch no samples and leave it out).
  void record(Record& record, bool samples_column = true) const;
  /// The counts a trace row holds, from its value of each column; a column `value` does not
  /// know (an older file, or no `samples`) reads as 0.
  template <class Value> static OracleCounts from_row(Value value) {
    OracleCounts counts;
    for (int k = 0; k < kOracleKinds; ++k)
      counts.calls_[k] = static_cast<long long>(value(column(static_cast<OracleKind>(k))));
    counts.samples_ = static_cast<long long>(value(kSamplesColumn));
    return counts;
  }

  friend bool operator==(const OracleCounts&, const OracleCounts&) = default;

private:
  std::array<long long, kOracleKinds> calls_{};
  long long samples_ = 0;
};

} // namespace bilevel
