#pragma once
// PETSc's error handler for the whole program: prints nothing (BB_PETSC's exception carries one
// line) but keeps the message of the error that started the chain, e.g. "Unable to find
// requested KSP type foo", which PETSc's generic text for the code does not say.

#include <string>

namespace bilevel {

/// Replaces PETSc's error handler (call once, after PetscInitialize).
void install_petsc_error_handler();
/// The message of the latest error raised inside PETSc on this rank ("" if none).
const std::string& latest_petsc_error();

} // namespace bilevel
