#pragma once
// The FFO-layer paper's synthetic decision-focused data (its eq. 14), shared by the problems that
// learn a layer's linear term from features: per sample a true cost (or return) vector
// c_s ~ U[0,1]^n and features phi_s = tanh(M c_s) + noise * U[0,1]^d, M a fixed Gaussian map
// scaled by 1/sqrt(n) (the paper's "randomly initialised network of c"). Every entry is one
// draw of a counter generator keyed by the seed, so the data do not depend on the rank layout.
#include <Eigen/Dense>

#include <cstdint>

namespace bilevel {

struct DecisionSamples {
  Eigen::MatrixXd costs;    ///< n x samples
  Eigen::MatrixXd features; ///< d x samples
};

/// Draws from the seed's streams 1 (costs), 2 (the map M) and 3 (noise); other streams of the
/// same seed are free for the caller (a model's initialisation).
DecisionSamples decision_samples(std::uint64_t seed, Eigen::Index n, Eigen::Index d,
                                 Eigen::Index samples, double noise);

} // namespace bilevel
