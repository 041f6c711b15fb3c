#include "bilevel/core/options.hpp"

#include "bilevel/core/error.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace bilevel {

namespace {

std::string& current_section() {
  static std::string section = "general";
  return section;
}

std::vector<OptionHelp>& help_lines() {
  static std::vector<OptionHelp> lines;
  return lines;
}

void record(const std::string& name, const std::string& value, const std::string& help) {
  for (const auto& line : help_lines())
    if (line.name == name && line.section == current_section())
      return;
  help_lines().push_back({current_section(), name, value, help});
}

std::string render(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

[[noreturn]] void bad_value(const std::string& name, const std::string& value,
                            const std::string& accepted) {
  throw InputError("option " + name + ": bad value '" + value + "'; accepted: " + accepted);
}

} // namespace

OptionSection::OptionSection(std::string title) : previous_(current_section()) {
  current_section() = std::move(title);
}

OptionSection::~OptionSection() {
  current_section() = previous_;
}

ScopedOptions::ScopedOptions(const std::string& text) {
  BB_PETSC(PetscOptionsCreate(&options_));
  BB_PETSC(PetscOptionsInsertString(options_, text.c_str()));
  BB_PETSC(PetscOptionsPush(options_));
}

ScopedOptions::~ScopedOptions() {
  (void)PetscOptionsPop();
  (void)PetscOptionsDestroy(&options_);
}

namespace options {

std::optional<std::string> raw(const std::string& name) {
  char buffer[4096] = {0};
  PetscBool set = PETSC_FALSE;
  BB_PETSC(PetscOptionsGetString(nullptr, nullptr, name.c_str(), buffer, sizeof buffer, &set));
  if (!set)
    return std::nullopt;
  return std::string(buffer);
}

bool given(const std::string& name) {
  return raw(name).has_value();
}

PetscInt get_int(const std::string& name, PetscInt fallback, PetscInt lo, PetscInt hi,
                 const std::string& help) {
  record(name, std::to_string(fallback), help);
  const auto value = raw(name);
  if (!value)
    return fallback;
  const std::string accepted =
      "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(value->c_str(), &end, 10);
  if (value->empty() || *end != '\0' || errno == ERANGE || parsed < lo || parsed > hi)
    bad_value(name, *value, accepted);
  return static_cast<PetscInt>(parsed);
}

double get_real(const std::string& name, double fallback, double lo, double hi,
                const std::string& help) {
  record(name, render(fallback), help);
  const auto value = raw(name);
  if (!value)
    return fallback;
  char* end = nullptr;
  errno = 0;
  const double parsed = std::strtod(value->c_str(), &end);
  if (value->empty() || *end != '\0' || errno == ERANGE || !std::isfinite(parsed) || parsed < lo ||
      parsed > hi)
    bad_value(name, *value, "a finite number in [" + render(lo) + ", " + render(hi) + "]");
  return parsed;
}

double get_positive(const std::string& name, double fallback, const std::string& help,
                    double lo_exclusive) {
  const double value =
      get_real(name, fallback, lo_exclusive, std::numeric_limits<double>::max(), help);
  if (value <= lo_exclusive)
    bad_value(name, *raw(name), "a finite number > " + render(lo_exclusive));
  return value;
}

bool get_bool(const std::string& name, bool fallback, const std::string& help) {
  record(name, fallback ? "true" : "false", help);
  const auto value = raw(name);
  if (!value)
    return fallback;
  if (value->empty() || *value == "1" || *value == "true" || *value == "yes")
    return true;
  if (*value == "0" || *value == "false" || *value == "no")
    return false;
  bad_value(name, *value, "true/false, yes/no, 1/0, or no value (true)");
}

std::string get_string(const std::string& name, const std::string& fallback,
                       const std::string& help) {
  record(name, fallback.empty() ? "(none)" : fallback, help);
  const auto value = raw(name);
  if (!value)
    return fallback;
  if (value->empty())
    bad_value(name, "", "a non-empty value");
  return *value;
}

std::string get_choice(const std::string& name, const std::string& fallback,
                       const std::vector<std::string>& choices, const std::string& help) {
  std::string joined;
  for (const auto& c : choices)
    joined += (joined.empty() ? "" : " | ") + c;
  record(name, fallback, help + " (" + joined + ")");
  const auto value = raw(name);
  if (!value)
    return fallback;
  for (const auto& c : choices)
    if (*value == c)
      return c;
  bad_value(name, *value, joined);
}

const std::vector<OptionHelp>& recorded_help() {
  return help_lines();
}
void clear_recorded_help() {
  help_lines().clear();
}

void reject_unused() {
  PetscInt count = 0;
  char** names = nullptr;
  char** values = nullptr;
  BB_PETSC(PetscOptionsLeftGet(nullptr, &count, &names, &values));
  std::string first;
  if (count > 0)
    first = std::string("-") + names[0];
  BB_PETSC(PetscOptionsLeftRestore(nullptr, &count, &names, &values));
  if (!first.empty())
    throw InputError("unknown option " + first +
                     " (not read by the selected problem, algorithm or mode); -help lists the "
                     "accepted options");
}

} // namespace options
} // namespace bilevel
