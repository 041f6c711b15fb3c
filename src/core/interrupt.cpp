#include "bilevel/core/interrupt.hpp"

#include "bilevel/core/error.hpp"

#include <csignal>

namespace bilevel {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
bool g_stop_agreed = false;
int g_deferrals = 0;

extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
}

/// Fails (silently: the CLI prints its own line) when a stop is agreed on the object's comm.
PetscErrorCode fail_if_stopping(PetscObject solver) {
  PetscFunctionBeginUser;
  MPI_Comm comm = MPI_COMM_NULL;
  PetscCall(PetscObjectGetComm(solver, &comm));
  if (stop_requested(comm))
    SETERRQ(comm, PETSC_ERR_USER, "interrupted by a signal");
  PetscFunctionReturn(0);
}

PetscErrorCode ksp_monitor(KSP ksp, PetscInt, PetscReal, void*) {
  return fail_if_stopping(reinterpret_cast<PetscObject>(ksp));
}

PetscErrorCode snes_monitor(SNES snes, PetscInt, PetscReal, void*) {
  return fail_if_stopping(reinterpret_cast<PetscObject>(snes));
}

PetscErrorCode tao_monitor(Tao tao, void*) {
  return fail_if_stopping(reinterpret_cast<PetscObject>(tao));
}

} // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

bool stop_signalled() {
  return g_stop_signal != 0;
}

bool stop_requested(MPI_Comm comm) {
  if (g_deferrals > 0)
    return false;
  int any = stop_signalled() ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, comm);
  g_stop_agreed = g_stop_agreed || any != 0;
  return any != 0;
}

void throw_if_interrupted(MPI_Comm comm) {
  if (stop_requested(comm))
    throw Interrupted();
}

StopChecksDeferred::StopChecksDeferred() {
  ++g_deferrals;
}

StopChecksDeferred::~StopChecksDeferred() {
  --g_deferrals;
}

bool stop_agreed() {
  return g_stop_agreed;
}

void watch_for_stop(KSP ksp) {
  BB_PETSC(KSPMonitorSet(ksp, ksp_monitor, nullptr, nullptr));
}

void watch_for_stop(SNES snes) {
  BB_PETSC(SNESMonitorSet(snes, snes_monitor, nullptr, nullptr));
}

void watch_for_stop(Tao tao) {
  BB_PETSC(TaoSetMonitor(tao, tao_monitor, nullptr, nullptr));
}

} // namespace bilevel
