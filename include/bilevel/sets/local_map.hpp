#pragma once
// out_i = op(in1_i, in2_i, ...) over this rank's entries of Vecs of one layout: the kernel of the
// separable sets (Box, VectorBox). `out` may alias any input: every input's array is taken for
// reading first and the output is written through its own array.
#include "bilevel/core/error.hpp"

#include <petscvec.h>

#include <array>
#include <cstddef>
#include <utility>

namespace bilevel {

template <class Op, class... In> void local_map(Vec out, Op op, In... inputs) {
  constexpr std::size_t count = sizeof...(In);
  const std::array<Vec, count> vecs{inputs...};
  std::array<const PetscScalar*, count> in{};
  for (std::size_t k = 0; k < count; ++k)
    BB_PETSC(VecGetArrayRead(vecs[k], &in[k]));
  PetscInt n = 0;
  PetscScalar* po = nullptr;
  BB_PETSC(VecGetLocalSize(out, &n));
  BB_PETSC(VecGetArray(out, &po));
  for (PetscInt i = 0; i < n; ++i)
    po[i] = [&]<std::size_t... k>(std::index_sequence<k...>) {
      return op(in[k][i]...);
    }
  (std::make_index_sequence<count>{});
  BB_PETSC(VecRestoreArray(out, &po));
  for (std::size_t k = count; k-- > 0;)
    BB_PETSC(VecRestoreArrayRead(vecs[k], &in[k]));
}

} // namespace bilevel
