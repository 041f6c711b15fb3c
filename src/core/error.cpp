#include "bilevel/core/error.hpp"

#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/out_of_memory.hpp"
#include "bilevel/core/petsc_error_handler.hpp"

namespace bilevel {

namespace {

std::string g_latest_petsc_error;

PetscErrorCode keep_message(MPI_Comm, int, const char*, const char*, PetscErrorCode code,
                            PetscErrorType type, const char* message, void*) {
  if (type == PETSC_ERROR_INITIAL)
    g_latest_petsc_error = message ? message : "";
  return code;
}

std::string describe(PetscErrorCode code, const char* call, const char* file, int line) {
  const char* text = nullptr;
  (void)PetscErrorMessage(code, &text, nullptr);
  return std::string("PETSc error ") + std::to_string(static_cast<int>(code)) + " (" +
         (text ? text : "unknown") + ": " + g_latest_petsc_error + ") in " + call + " at " + file +
         ":" + std::to_string(line);
}

} // namespace

void install_petsc_error_handler() {
  PetscPushErrorHandler(keep_message, nullptr);
}

const std::string& latest_petsc_error() {
  return g_latest_petsc_error;
}

PetscFailure::PetscFailure(PetscErrorCode code, const char* call, const char* file, int line)
    : std::runtime_error(describe(code, call, file, line)), code_(code) {}

void throw_petsc_failure(PetscErrorCode code, const char* call, const char* file, int line) {
  // Once a stop is agreed, a failing solve is one that watch_for_stop ended (every rank agreed).
  if (stop_agreed())
    throw Interrupted();
  // PETSc's own report of a failed allocation names neither the size nor the cause.
  if (const std::size_t bytes = take_failed_allocation(); bytes > 0)
    throw OutOfMemory("allocating " + human_bytes(static_cast<double>(bytes)) + " failed in " +
                      std::string(call).substr(0, std::string(call).find('(')));
  // Type names come from the options (-alg_ksp_type, -alg_pc_type, ...): a user's misspelling.
  if (code == PETSC_ERR_ARG_UNKNOWN_TYPE)
    throw InputError(g_latest_petsc_error +
                     " (set by a -*_type option such as -alg_ksp_type or -alg_pc_type)");
  throw PetscFailure(code, call, file, line);
}

} // namespace bilevel
