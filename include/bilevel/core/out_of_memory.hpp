#pragma once
// Running out of memory, said as such: the size that was asked for and where, in one line,
// instead of PETSc's generic error (whose out-of-memory report names neither). PETSc's
// allocator is wrapped to remember the size of a request that failed.
#include <cstddef>
#include <stdexcept>
#include <string>

namespace bilevel {

/// An allocation failed on this rank (possibly on this rank alone).
class OutOfMemory : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Wraps PETSc's allocator so that a failed request's size is kept (call once, after
/// PetscInitialize).
void watch_petsc_allocations();
/// Bytes of the latest PETSc allocation that failed on this rank, 0 if none; clears it.
std::size_t take_failed_allocation();
/// A byte count for people: "512 B", "3.73 GiB".
std::string human_bytes(double bytes);

} // namespace bilevel
