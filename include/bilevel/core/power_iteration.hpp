#pragma once
// Power iteration with Rayleigh quotients for the extreme eigenvalue of a symmetric operator
// given only as a product. Used for curvature estimates (the lower level's L and mu, PGD-QP's
// smoothness constants) where no problem supplies them.
#include <petscvec.h>

#include <functional>

namespace bilevel {

/// Sets v_i = 1 + 0.01 (i mod 7) by global index: a fixed start vector, identical on every rank
/// layout (so the estimates are too), and not orthogonal to the dominant eigenvector in practice.
void set_power_start(Vec v);

/// The Rayleigh quotient v'Av after `iterations` normalised products from the start vector in
/// `v` (overwritten). It converges to the eigenvalue of largest magnitude, with its sign.
double power_iteration(Vec v, const std::function<void(Vec in, Vec out)>& apply,
                       int iterations = 100);

} // namespace bilevel
