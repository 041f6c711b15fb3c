#pragma once
// The step-length rule both interior points (InteriorPointQp, InteriorPointQcqp) apply to their
// slacks and multipliers, which must stay nonnegative along a Newton direction.
#include <Eigen/Dense>

#include <algorithm>

namespace bilevel {

/// The largest alpha in [0, 1] with v + alpha dv >= 0 (v >= 0 entry by entry).
inline double step_to_boundary(const Eigen::VectorXd& v, const Eigen::VectorXd& dv) {
  double alpha = 1.0;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (dv[i] < 0)
      alpha = std::min(alpha, -v[i] / dv[i]);
  return alpha;
}

} // namespace bilevel
