#include "bilevel/core/error.hpp"

namespace bilevel {

namespace {
std::string describe(PetscErrorCode code, const char* call, const char* file, int line) {
  const char* text = nullptr;
  (void)PetscErrorMessage(code, &text, nullptr);
  return std::string("PETSc error ") + std::to_string(static_cast<int>(code)) + " (" +
         (text ? text : "unknown") + ") in " + call + " at " + file + ":" + std::to_string(line);
}
} // namespace

PetscFailure::PetscFailure(PetscErrorCode code, const char* call, const char* file, int line)
    : std::runtime_error(describe(code, call, file, line)), code_(code) {}

void throw_petsc_failure(PetscErrorCode code, const char* call, const char* file, int line) {
  throw PetscFailure(code, call, file, line);
}

} // namespace bilevel
