#include "bilevel/problems/grid_resample.hpp"

#include "bilevel/core/error.hpp"

#include <petscdmda.h>

#include <cmath>

namespace bilevel {

namespace {
PetscInt grid_size(DM da) {
  PetscInt m = 0;
  BB_PETSC(DMDAGetInfo(da, nullptr, &m, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                       nullptr, nullptr, nullptr, nullptr, nullptr));
  return m;
}

/// Where grid point `i` of a grid of `to_n` points falls on a grid of `from_n` points: the lower
/// neighbour's index (-1 = the boundary) and the weight of the upper one.
struct Cell {
  PetscInt lower;
  double weight;
};
Cell locate(PetscInt i, PetscInt to_n, PetscInt from_n) {
  const double p =
      static_cast<double>(i + 1) * static_cast<double>(from_n + 1) / static_cast<double>(to_n + 1) -
      1.0;
  const double lower = std::floor(p);
  return Cell{static_cast<PetscInt>(lower), p - lower};
}
} // namespace

void resample_bilinear(DM from_da, Vec from, DM to_da, Vec to) {
  const PetscInt nf = grid_size(from_da), nt = grid_size(to_da);
  OwnedVec natural, all;
  OwnedScatter gather;
  BB_PETSC(DMDACreateNaturalVector(from_da, natural.receive()));
  BB_PETSC(DMDAGlobalToNaturalBegin(from_da, from, INSERT_VALUES, natural));
  BB_PETSC(DMDAGlobalToNaturalEnd(from_da, from, INSERT_VALUES, natural));
  BB_PETSC(VecScatterCreateToAll(natural, gather.receive(), all.receive()));
  BB_PETSC(VecScatterBegin(gather, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  BB_PETSC(VecScatterEnd(gather, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* src = nullptr;
  BB_PETSC(VecGetArrayRead(all, &src));
  const auto value = [&](PetscInt i, PetscInt j) {
    return i < 0 || j < 0 || i >= nf || j >= nf ? 0.0 : src[j * nf + i]; // Dirichlet data
  };
  PetscInt xs = 0, ys = 0, xm = 0, ym = 0;
  BB_PETSC(DMDAGetCorners(to_da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  PetscScalar** out = nullptr;
  BB_PETSC(DMDAVecGetArray(to_da, to, &out));
  for (PetscInt j = ys; j < ys + ym; ++j) {
    const Cell cj = locate(j, nt, nf);
    for (PetscInt i = xs; i < xs + xm; ++i) {
      const Cell ci = locate(i, nt, nf);
      out[j][i] = (1 - cj.weight) * ((1 - ci.weight) * value(ci.lower, cj.lower) +
                                     ci.weight * value(ci.lower + 1, cj.lower)) +
                  cj.weight * ((1 - ci.weight) * value(ci.lower, cj.lower + 1) +
                               ci.weight * value(ci.lower + 1, cj.lower + 1));
    }
  }
  BB_PETSC(DMDAVecRestoreArray(to_da, to, &out));
  BB_PETSC(VecRestoreArrayRead(all, &src));
}

} // namespace bilevel
