#pragma once
// The suite's PETSc log events, one per phase of an outer iteration, so -log_view and the /timing
// group of every result file break a run's time down the same way for every algorithm; and two
// log stages that keep the timed steps apart from the reporting done between them (a true
// hypergradient's Krylov solve must not be counted as the method's MatMults).
#include <petsclog.h>

namespace bilevel {

struct LogEvents {
  PetscLogEvent inner_solve;   ///< lower-level iterations (fixed point, gradient, SGM, ...)
  PetscLogEvent hypergradient; ///< implicit / unrolled / zeroth-order gradient
  PetscLogEvent linear_solve;  ///< Krylov or direct solve inside a hypergradient
  PetscLogEvent outer_step;    ///< upper-level update, line search included
  PetscLogEvent report;        ///< metrics outside the timed algorithm (objective, accuracy)
  PetscLogEvent output;        ///< HDF5 writing
  PetscLogEvent allreduce;     ///< the suite's own MPI_Allreduce of replicated vectors (the
                               ///< performance model counts them beside PETSc's VecDot/VecNorm)
  PetscLogStage iterations;    ///< the driver's timed Algorithm::step calls
  PetscLogStage reporting;     ///< metrics and reporting-only solves between steps
};

/// Registers the events on first use (after PetscInitialize) and returns them.
const LogEvents& log_events();

/// Scope guard: PetscLogEventBegin on construction, End on destruction.
class LogScope {
public:
  explicit LogScope(PetscLogEvent event);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

private:
  PetscLogEvent event_;
};

/// Scope guard: PetscLogStagePush on construction, Pop on destruction.
class StageScope {
public:
  explicit StageScope(PetscLogStage stage);
  ~StageScope();
  StageScope(const StageScope&) = delete;
  StageScope& operator=(const StageScope&) = delete;
};

} // namespace bilevel
