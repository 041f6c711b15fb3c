#pragma once
// The bridge between PETSc's error codes and C++ exceptions: library code calls PETSc through
// BB_PETSC, which turns a non-zero PetscErrorCode into a PetscFailure; bad user input is an
// InputError, whose message is the one line the CLI prints.
#include <petscsys.h>

#include <stdexcept>
#include <string>

namespace bilevel {

/// Something the user asked for is wrong (unknown name, bad value, missing file, wrong shape).
/// The message names what is wrong and what is accepted.
class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A PETSc call returned an error code.
class PetscFailure : public std::runtime_error {
public:
  PetscFailure(PetscErrorCode code, const char* call, const char* file, int line);
  PetscErrorCode code() const { return code_; }

private:
  PetscErrorCode code_;
};

/// The file system refused a read or write of a file we were already using (disk full, quota,
/// a file server gone). Raised on every rank together (h5::agree), so the CLI reports it in one
/// line and exits with its own code instead of aborting the job.
class IoError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An internal invariant or numerical failure that is not the user's fault.
class RuntimeFailure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_petsc_failure(PetscErrorCode code, const char* call, const char* file,
                                      int line);

} // namespace bilevel

/// Calls a PETSc function and throws bilevel::PetscFailure when it fails.
#define BB_PETSC(...)                                                                              \
  do {                                                                                             \
    const PetscErrorCode bb_petsc_ierr_ = (__VA_ARGS__);                                           \
    if (bb_petsc_ierr_ != 0)                                                                       \
      ::bilevel::throw_petsc_failure(bb_petsc_ierr_, #__VA_ARGS__, __FILE__, __LINE__);            \
  } while (0)

/// Throws InputError built from a string expression when the condition fails.
#define BB_REQUIRE_INPUT(cond, message)                                                            \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      throw ::bilevel::InputError(message);                                                        \
  } while (0)
