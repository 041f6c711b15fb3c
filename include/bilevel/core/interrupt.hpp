#pragma once
// Stopping a run on SIGTERM/SIGINT within one inner step. The signal handler only sets a flag;
// the driver checks it once per outer iteration, and every inner solver once per inner step
// (its own loops through throw_if_interrupted, PETSc's KSP/SNES/TAO through a monitor). The
// check is collective, so all ranks stop at the same step and no collective is left waiting.
// Inside a step the stop surfaces as the exception Interrupted, which the driver catches.
#include <petscksp.h>
#include <petscsnes.h>
#include <petsctao.h>

#include <stdexcept>

namespace bilevel {

/// Thrown on every rank together, from inside an outer iteration, once a stop was requested.
class Interrupted : public std::runtime_error {
public:
  Interrupted() : std::runtime_error("interrupted by a signal") {}
};

/// Installs SIGTERM/SIGINT handlers that only record the request (PETSc's would abort).
void install_stop_handlers();
/// Whether a signal arrived on this rank (local, no communication).
bool stop_signalled();
/// Whether a signal arrived on any rank of comm (collective). Once true on a rank, a PETSc
/// failure there is reported as Interrupted: it is the solver stopped by watch_for_stop.
bool stop_requested(MPI_Comm comm);
/// Throws Interrupted if stop_requested(comm) (collective): one call per inner step.
void throw_if_interrupted(MPI_Comm comm);
/// Whether a stop was agreed on this rank by stop_requested.
bool stop_agreed();

/// While one lives, stop_requested is false without communicating: for solves whose
/// interruption would leave a half-made result behind (the driver's reporting stage, after a
/// completed step). Create it on every rank of the communicators concerned.
class StopChecksDeferred {
public:
  StopChecksDeferred();
  ~StopChecksDeferred();
  StopChecksDeferred(const StopChecksDeferred&) = delete;
  StopChecksDeferred& operator=(const StopChecksDeferred&) = delete;
};

/// Makes the solver check stop_requested once per iteration and fail when it holds, which
/// BB_PETSC then throws as Interrupted.
void watch_for_stop(KSP ksp);
void watch_for_stop(SNES snes);
void watch_for_stop(Tao tao);

} // namespace bilevel
