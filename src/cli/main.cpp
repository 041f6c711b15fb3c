// bilevelbench: the command-line entry point. Dispatches to a mode and turns errors into one
// line on stderr and a non-zero exit code (docs/user-guide.md, "Exit codes").
#include "bilevel/cli/command_line.hpp"
#include "bilevel/cli/modes.hpp"
#include "bilevel/core/blas_kernels.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/out_of_memory.hpp"
#include "bilevel/core/petsc_error_handler.hpp"
#include "bilevel/driver/driver.hpp"
#include "bilevel/io/hdf5.hpp"

#include <petscsys.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

const char* const kUsage =
    "bilevelbench: MPI-parallel benchmarks of bilevel and VI-constrained optimization.\n";

bool is_help(const char* arg) {
  return std::strcmp(arg, "-help") == 0 || std::strcmp(arg, "--help") == 0 ||
         std::strcmp(arg, "-h") == 0;
}

int dispatch(MPI_Comm comm, bool help, bool no_arguments) {
  using namespace bilevel;
  if (help)
    return cli::help_mode();
  if (no_arguments)
    return cli::suite_mode(comm);
  if (const auto conflict = cli::conflicting_modes(options::given))
    throw InputError(*conflict);
  if (options::get_bool("-list", false, "list problems and algorithms"))
    return cli::list_mode();
  if (options::given("-export_problem"))
    return cli::export_mode(comm);
  if (options::get_bool("-hypergrad", false, "evaluate one hypergradient (see -x_from)"))
    return cli::hypergrad_mode(comm);
  if (options::given("-suite"))
    return cli::suite_mode(comm);
  return cli::run_mode(comm);
}

/// An allocation failed on this rank: one line, then the job ends with kExitOutOfMemory. Alone,
/// the run ends normally; with other ranks, which may wait in a collective, it aborts them.
int out_of_memory(int rank, const char* what) {
  std::fprintf(stderr, "bilevelbench: out of memory on rank %d: %s\n", rank, what);
  std::fflush(stderr);
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (size > 1)
    MPI_Abort(PETSC_COMM_WORLD, bilevel::cli::kExitOutOfMemory);
  return bilevel::cli::kExitOutOfMemory;
}

} // namespace

int main(int argc, char** argv) {
  bilevel::select_blas_kernels(argv); // before MPI: it may re-execute the process
  // -help is ours: strip it before PETSc, which would otherwise print its own long help.
  std::vector<char*> args;
  bool help = false;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && is_help(argv[i]))
      help = true;
    else
      args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  char** pargs = args.data();
  // MPI first, so that a command line PETSc would choke on is refused in one line from rank 0.
  MPI_Init(&count, &pargs);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (const auto error =
          bilevel::cli::command_line_error(std::vector<std::string>(pargs + 1, pargs + count))) {
    if (rank == 0)
      std::fprintf(stderr, "bilevelbench: error: %s\n", error->c_str());
    MPI_Finalize();
    return bilevel::cli::kExitBadInput;
  }
  if (PetscInitialize(&count, &pargs, nullptr, kUsage) != 0) {
    MPI_Finalize();
    return bilevel::cli::kExitFailure;
  }
  // A clean stop on SIGTERM/SIGINT: PETSc's own handler would abort without flushing.
  bilevel::install_stop_handlers();
  // PETSc errors become exceptions with one-line messages (BB_PETSC), not tracebacks; HDF5's
  // error stacks likewise (h5::check).
  bilevel::install_petsc_error_handler();
  bilevel::watch_petsc_allocations();
  bilevel::h5::silence_errors();
  // Event logging feeds every result file's /timing group, -log_view or not.
  PetscBool logging = PETSC_FALSE;
  PetscLogIsActive(&logging);
  if (!logging)
    PetscLogDefaultBegin();
  int code = bilevel::cli::kExitOk;
  try {
    code = dispatch(PETSC_COMM_WORLD, help, argc == 1);
  } catch (const bilevel::InputError& e) {
    if (rank == 0)
      std::fprintf(stderr, "bilevelbench: error: %s\n", e.what());
    code = bilevel::cli::kExitBadInput;
  } catch (const bilevel::Interrupted& e) {
    // A stop inside a mode without a driver loop (-hypergrad): nothing was written yet.
    if (rank == 0)
      std::fprintf(stderr, "bilevelbench: %s\n", e.what());
    code = bilevel::cli::kExitInterrupted;
  } catch (const bilevel::IoError& e) {
    // Raised on every rank together (h5::agree), so the job can end normally.
    if (rank == 0)
      std::fprintf(stderr, "bilevelbench: I/O error: %s\n", e.what());
    code = bilevel::cli::kExitIoFailure;
  } catch (const bilevel::OutOfMemory& e) {
    code = out_of_memory(rank, e.what());
  } catch (const std::bad_alloc&) {
    code = out_of_memory(rank, "a C++ allocation failed");
  } catch (const std::exception& e) {
    // Possibly on this rank alone: the others may wait in a collective, so abort them all.
    std::fprintf(stderr, "bilevelbench: failure on rank %d: %s\n", rank, e.what());
    std::fflush(stderr);
    MPI_Abort(PETSC_COMM_WORLD, bilevel::cli::kExitFailure);
  }
  PetscFinalize();
  MPI_Finalize(); // ours: PETSc leaves an MPI it did not start running
  return code;
}
