#pragma once
// Sizes of the suite's own collectives, per PETSc log stage. PETSc's event log counts every
// MPI_Allreduce but not its size, and logs a scatter to all ranks without its bytes, so the
// performance model (`bba model`) could only guess them per problem; the result file's
// /communication group (written from this ledger) records them instead.
#include <mpi.h>

#include <array>
#include <vector>

namespace bilevel {

enum class Collective { allreduce, gather };
constexpr std::array<Collective, 2> kCollectives{Collective::allreduce, Collective::gather};
const char* collective_name(Collective kind);

struct CollectiveTally {
  double calls = 0;
  double bytes = 0; ///< payload: the reduced vector's, or the whole gathered vector's
};

/// Adds one call moving `bytes` to the tally of the current PETSc log stage.
void record_collective(Collective kind, double bytes);

/// The tallies, indexed [stage][kind] by PETSc stage number (stages never seen are zero).
const std::vector<std::array<CollectiveTally, kCollectives.size()>>& collective_tallies();

/// MPI_Allreduce of `count` doubles in place, inside the BBAllreduce log event, recorded.
void logged_allreduce(MPI_Comm comm, double* data, int count, MPI_Op op);

} // namespace bilevel
