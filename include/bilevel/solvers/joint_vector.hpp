#pragma once
// z = (x, y) as one PETSc VecNest, so the methods that move x and y together (PGD-QP, BOME) write
// their directions, inner products and norms over the joint variable as single Vec operations,
// while each part keeps the layout the problem's oracles expect.
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

/// A new joint vector whose parts are laid out like `x_model` and `y_model` (values not set).
OwnedVec create_joint(Vec x_model, Vec y_model);
/// The parts of a joint vector (borrowed: they live as long as the joint vector).
Vec x_part(Vec joint);
Vec y_part(Vec joint);

} // namespace bilevel
