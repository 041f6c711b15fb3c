#pragma once
// The executable's modes (docs/user-guide.md): each reads its options from the current PETSc
// options database, rejects unused ones before writing anything, and returns the process exit
// code (0 completed/converged and valid, 3 interrupted, 4 diverged, 5 finished but not valid;
// bad input throws InputError -> 2, an agreed I/O failure IoError -> 6).
#include "bilevel/core/run_status.hpp"

#include <mpi.h>

#include <string>

namespace bilevel::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitInterrupted = 3;
constexpr int kExitDiverged = 4;
constexpr int kExitNotValid = 5;    ///< completed, but the validity verdict is suspect or invalid
constexpr int kExitIoFailure = 6;   ///< the file system refused a write
constexpr int kExitOutOfMemory = 7; ///< an allocation failed (the size is in the message)

int exit_code_for(RunStatus status, const std::string& validity);

/// -list: every problem and algorithm with its description, and which pairs run.
int list_mode();
/// -help: usage, the general options, and those of -problem / -algorithm if given.
int help_mode();
/// -problem P -algorithm A [-output F] [-restart_from F]: one experiment.
int run_mode(MPI_Comm comm);
/// -hypergrad: one hypergradient at -x_from's /x (or the initial x), written as /hypergrad.
int hypergrad_mode(MPI_Comm comm);
/// -export_problem F: the instance's data.
int export_mode(MPI_Comm comm);
/// No arguments: the default quick suite with a summary table.
int suite_mode(MPI_Comm comm);

} // namespace bilevel::cli
