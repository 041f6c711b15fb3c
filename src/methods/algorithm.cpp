#include "bilevel/methods/algorithm.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/io/hdf5.hpp"

namespace bilevel {

void Algorithm::hypergradient(Vec, Vec, Record&) {
  throw InputError("algorithm '" + name() + "' has no hypergradient oracle (-hypergrad mode)");
}

void Algorithm::report(Vec, Record&) {}

void Algorithm::save_state(hid_t group) const {
  h5::write_vec(group, "y", lower_iterate());
}

void Algorithm::load_state(hid_t group) {
  h5::read_vec(group, "y", lower_iterate());
}

} // namespace bilevel
