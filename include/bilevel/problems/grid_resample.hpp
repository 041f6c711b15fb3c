#pragma once
// Bilinear resampling between two DMDA grids of the unit square's interior (N x N points,
// spacing 1/(N + 1), zero Dirichlet data on the boundary), for grid sequencing. The source is
// gathered to every rank in natural order, so any two grid sizes and rank layouts work; its cost
// is one replicated copy of the source (80 MB at 3163^2).
#include "bilevel/core/petsc_handle.hpp"

namespace bilevel {

/// to(s, t) = the bilinear interpolant of `from` (zero on the boundary) at to's grid points.
void resample_bilinear(DM from_da, Vec from, DM to_da, Vec to);

} // namespace bilevel
