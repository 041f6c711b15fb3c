#pragma once
// An options string ("-name value -flag ...", as PetscOptionsGetAll or a suite line writes it)
// split into names and values, for comparing the options of two runs.
#include <string>
#include <utility>
#include <vector>

namespace bilevel::cli {

/// Option names in order of appearance with their values ("" for a bare flag); a token such as
/// "-20" or "-.5" is a value (a negative number), not a name.
std::vector<std::pair<std::string, std::string>> option_words(const std::string& text);

} // namespace bilevel::cli
