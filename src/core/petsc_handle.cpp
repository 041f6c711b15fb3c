#include "bilevel/core/petsc_handle.hpp"

#include "bilevel/core/error.hpp"

namespace bilevel {

OwnedVec duplicate(Vec model) {
  OwnedVec out;
  BB_PETSC(VecDuplicate(model, out.receive()));
  return out;
}

OwnedVec copy_of(Vec source) {
  OwnedVec out = duplicate(source);
  BB_PETSC(VecCopy(source, out));
  return out;
}

} // namespace bilevel
