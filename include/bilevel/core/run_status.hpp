#pragma once
// How a run stands: one enum for the driver, the result file's `status` attribute (its word) and
// the exit code (cli::exit_code_for), so a status cannot be misspelt or left unhandled.
#include <string>

namespace bilevel {

enum class RunStatus {
  running,     ///< in the file while the run goes on (and after a kill)
  completed,   ///< the iteration budget or time budget was used up
  converged,   ///< the hypergradient norm reached -tol
  diverged,    ///< a non-finite value or runaway growth ended it
  interrupted, ///< SIGTERM/SIGINT ended it; -restart_from continues it
};

/// The word written to the file's `status` ("completed", ...).
std::string status_word(RunStatus status);

/// completed or converged: the run did what it was asked, so its numbers stand (validity says
/// how far to trust them).
inline bool ran_to_end(RunStatus status) {
  return status == RunStatus::completed || status == RunStatus::converged;
}

} // namespace bilevel
