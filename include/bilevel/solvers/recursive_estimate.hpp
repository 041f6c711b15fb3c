#pragma once
// The recursive variance-reduced estimate shared by SRBA, MRBO, VRBO, SUSTAIN and FSLA
// (docs/algorithms.md, "Stochastic bilevel solvers"): a direction d that follows a sampled
// quantity through its change between consecutive iterates z_{k-1}, z_k, both evaluated on the
// same batch, so that the batch's noise cancels in the difference:
//   d_k = term(z_k) + (1 - eta) (d_{k-1} - term(z_{k-1})).
// eta = 0 is the SARAH/SPIDER recursion d_k = d_{k-1} + term(z_k) - term(z_{k-1}); 0 < eta < 1 is
// STORM's momentum; a restart (a full batch, or the first sample) sets d to the term itself.
#include <Eigen/Dense>

namespace bilevel {

class RecursiveEstimate {
public:
  using Vector = Eigen::VectorXd;

  explicit RecursiveEstimate(Eigen::Index dim) : d_(Vector::Zero(dim)) {}

  /// d <- now + (1 - eta) (d - previous), with `now` and `previous` from the same batch.
  const Vector& update(const Vector& now, const Vector& previous, double eta);
  /// d <- now: the start of a period (or of the run), where no previous estimate is trusted.
  const Vector& restart(const Vector& now);

  const Vector& direction() const { return d_; }
  /// The restart state: d itself.
  Vector& direction() { return d_; }

private:
  Vector d_;
};

} // namespace bilevel
