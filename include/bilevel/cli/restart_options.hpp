#pragma once
// What a restart may change: the stopping rules (iteration count, time budget, tolerance),
// monitors, viewers and output options. Every other option describes the instance or the
// method, and a restart that changed one would append a different run's rows to the trace.
#include <optional>
#include <string>

namespace bilevel::cli {

/// The first instance or method option whose value differs between the options strings of the
/// stored run and of this one (PetscOptionsGetAll's "-name value ..."), as a one-line message,
/// or nothing.
std::optional<std::string> restart_option_change(const std::string& stored,
                                                 const std::string& current);

} // namespace bilevel::cli
