#pragma once
// Timing of collective kernels, shared by the Google Benchmark harness and the stand-alone
// benchmark drivers (no Google Benchmark dependency here).
#include <mpi.h>

namespace bench {

/// Runs `kernel` once on every rank and returns the slowest rank's seconds. The barrier makes
/// the ranks start together, so a rank's time is its own work plus waiting inside the
/// kernel's collectives, not waiting for the others to arrive.
template <class Kernel> double time_collective(MPI_Comm comm, Kernel&& kernel) {
  MPI_Barrier(comm);
  const double start = MPI_Wtime();
  kernel();
  double seconds = MPI_Wtime() - start;
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
  return seconds;
}

} // namespace bench
