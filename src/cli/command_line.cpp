#include "bilevel/cli/command_line.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bilevel::cli {

namespace {

bool is_option(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-';
}

/// The tokens of one options-file line, without its comment.
std::vector<std::string> tokens_of(const std::string& line) {
  std::istringstream in(line.substr(0, line.find('#')));
  std::vector<std::string> tokens;
  for (std::string token; in >> token;)
    tokens.push_back(token);
  return tokens;
}

std::optional<std::string> options_file_error(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  if (!fs::exists(path, ignored))
    return "-options_file " + path + ": no such file";
  if (!fs::is_regular_file(path, ignored))
    return "-options_file " + path + ": not a regular file";
  std::ifstream in(path);
  if (!in)
    return "-options_file " + path + ": cannot be read";
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    // PETSc takes a line's first token as the option and the second as its value.
    if (tokens_of(line).size() > 2)
      return "-options_file " + path + " line " + std::to_string(number) +
             ": several options on one line; accepted: one '-name value' per line";
  }
  return std::nullopt;
}

/// -log_view [viewer][:file[:format]]: PETSc ignores a file it cannot create.
std::optional<std::string> log_view_error(const std::string& value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string::npos)
    return std::nullopt;
  const std::string file = value.substr(colon + 1, value.find(':', colon + 1) - colon - 1);
  if (file.empty())
    return std::nullopt;
  const auto parent = std::filesystem::path(file).parent_path();
  const std::string directory = parent.empty() ? "." : parent.string();
  if (access(directory.c_str(), W_OK) != 0)
    return "-log_view " + value + ": cannot write '" + file +
           "'; check that its directory exists and is writable";
  return std::nullopt;
}

} // namespace

std::optional<std::string> command_line_error(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    // Options are "-name [value]": a word that follows no option name belongs to nothing.
    if (!is_option(args[i]) && (i == 0 || !is_option(args[i - 1])))
      return "unexpected argument '" + args[i] + "'; accepted: options '-name [value]' only";
    if (i + 1 >= args.size() || is_option(args[i + 1]))
      continue;
    if (args[i] == "-options_file")
      if (auto error = options_file_error(args[i + 1]))
        return error;
    if (args[i] == "-log_view")
      if (auto error = log_view_error(args[i + 1]))
        return error;
  }
  return std::nullopt;
}

std::optional<std::string> conflicting_modes(bool (*given)(const std::string&)) {
  const char* const modes[] = {"-list", "-export_problem", "-hypergrad", "-suite"};
  std::string first;
  for (const char* mode : modes) {
    if (!given(mode))
      continue;
    if (!first.empty())
      return first + " and " + mode + " are modes that exclude each other; give one";
    first = mode;
  }
  if (first == "-list")
    for (const char* selection : {"-problem", "-algorithm"})
      if (given(selection))
        return std::string("-list and ") + selection +
               " exclude each other: -list names every problem and algorithm";
  return std::nullopt;
}

} // namespace bilevel::cli
