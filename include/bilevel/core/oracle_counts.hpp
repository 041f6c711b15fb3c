#pragma once
// A run's cumulative oracle calls, by kind, and the samples they touched: the x-axis on which
// methods compare independently of time (the stochastic solvers' analyses count these, not
// seconds). The Problem owns one: its full-batch oracles count themselves, the minibatch oracles
// (solvers/minibatch_oracles.hpp) count a batch of b samples as one call touching b samples, and
// the driver counts the inner solves each step reported. The counts are global (the same on
// every rank), so the trace columns do not depend on the rank count.
#include "bilevel/core/record.hpp"

#include <array>

namespace bilevel {

enum class OracleKind {
  upper_gradient,   ///< grad f (x- and y-parts of one evaluation count once)
  lower_gradient,   ///< grad g, or the VI map F
  hessian_vector,   ///< grad^2_yy g v, or grad_y F v / its transpose
  cross_derivative, ///< d_x(grad_y g)' v or d_x(grad_y g) w, or the VI map's x-derivatives
  inner_solve,      ///< an inner solve that reported its outcome (Record::solve)
};
inline constexpr int kOracleKinds = 5;

class OracleCounts {
public:
  /// One call of `kind` that touched `samples` samples (0 where the problem is not a sum).
  void add(OracleKind kind, long long samples = 0) {
    ++calls_[static_cast<int>(kind)];
    samples_ += samples;
  }
  long long calls(OracleKind kind) const { return calls_[static_cast<int>(kind)]; }
  long long samples() const { return samples_; }

  /// Sets the cumulative `calls_*` columns and `samples` in `record`.
  void record(Record& record) const;

private:
  std::array<long long, kOracleKinds> calls_{};
  long long samples_ = 0;
};

} // namespace bilevel
