#pragma once
// Checks on the raw command line that PETSc would otherwise accept silently or fail on with a
// crash-like report: a stray positional argument, an -options_file that cannot be read or puts
// several options on one line, a -log_view file that cannot be written. They run before
// PetscInitialize, which reads these options itself.
#include <optional>
#include <string>
#include <vector>

namespace bilevel::cli {

/// The first problem with `args` (the arguments after the program name) as a one-line message,
/// or nothing.
std::optional<std::string> command_line_error(const std::vector<std::string>& args);

/// The mode options given together that exclude each other, as a one-line message, or nothing.
/// `given` tells whether an option is set.
std::optional<std::string> conflicting_modes(bool (*given)(const std::string&));

} // namespace bilevel::cli
