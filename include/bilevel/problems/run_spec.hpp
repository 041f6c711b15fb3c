#pragma once
// What the command line fixes for a whole run: its communicator, seed and iteration budget, and
// how to build its problem again. The CLI reads it once (RunSpec::from_options) and passes it
// down to the problem's and the method's construction, so no problem or method reads -seed or
// -outer_iters itself and every object of a run sees the same values.
#include <mpi.h>

#include <functional>
#include <memory>

namespace bilevel {

class Problem;

struct RunSpec {
  MPI_Comm comm = MPI_COMM_WORLD;
  /// -seed: the instance's data (the problems draw it from counter streams of this seed) and a
  /// method's random draws (IGFM's directions).
  long long seed = 0;
  /// -outer_iters: the budget K, which the driver stops at and some step rules depend on.
  int outer_iters = 100;
  /// Builds this run's problem, with the same options, on another communicator: for a method
  /// that solves independent copies of it on rank groups (IGFM). Empty outside a run.
  std::function<std::unique_ptr<Problem>(MPI_Comm)> make_problem;

  /// Reads -seed and -outer_iters (section "run control"); make_problem is left to the caller.
  static RunSpec from_options(MPI_Comm comm);
};

} // namespace bilevel
