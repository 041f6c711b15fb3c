#pragma once
// The one-constraint QP of the PGD-QP paper eq. (7) (with the 1/2 on its second term that
// docs/algorithms.md §4.2 restores):  min_D 1/2 ||D + grad f||^2  s.t.  grad c' D + b <= 0,  solved
// in closed form (eq. 8): D = -grad f - lambda grad c, lambda = [b - grad c' grad f]_+ / ||grad
// c||^2. PGD-QP takes c = h, b = alpha rho; BOME's update (docs/algorithms.md §2.5) is the same QP
// with c = q, b = eta ||grad q||^2, so both methods share it.
#include <petscvec.h>

namespace bilevel {

/// lambda of eq. (8c). When grad c = 0 the constraint reads b <= 0; both methods' b vanish then
/// (rho = 0, resp. eta ||grad q||^2 = 0), so D = -grad f is optimal with lambda = 0.
double qp_multiplier(double b, double grad_c_dot_grad_f, double grad_c_sq);

/// direction = -grad_f - lambda grad_c (eq. 8a-b); any layout, joint vectors included.
void qp_direction(Vec grad_f, Vec grad_c, double lambda, Vec direction);

} // namespace bilevel
