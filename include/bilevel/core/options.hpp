#pragma once
// Strict access to the PETSc options database. Every option the suite reads goes through these
// functions, which (a) parse the whole value or throw an InputError naming the option and what it
// accepts, (b) check ranges, and (c) record a help line, so `-help` can print exactly the options
// of the selected problem and algorithm.
#include <petscsys.h>

#include <optional>
#include <string>
#include <vector>

namespace bilevel {

struct OptionHelp {
  std::string section; ///< e.g. "problem quadratic"
  std::string name;    ///< with the leading dash
  std::string value;   ///< default, rendered
  std::string help;
};

/// Names the section help lines are recorded under while it lives (RAII).
class OptionSection {
public:
  explicit OptionSection(std::string title);
  ~OptionSection();
  OptionSection(const OptionSection&) = delete;
  OptionSection& operator=(const OptionSection&) = delete;

private:
  std::string previous_;
};

/// Makes `text` the whole options database while it lives (PetscOptionsPush), so a suite's
/// runs, or a test's cases, each see only their own options.
class ScopedOptions {
public:
  explicit ScopedOptions(const std::string& text);
  ~ScopedOptions();
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

private:
  PetscOptions options_ = nullptr;
};

namespace options {

/// The raw value of `name` if given (an empty string for a bare flag).
std::optional<std::string> raw(const std::string& name);
bool given(const std::string& name);

PetscInt get_int(const std::string& name, PetscInt fallback, PetscInt lo, PetscInt hi,
                 const std::string& help);
double get_real(const std::string& name, double fallback, double lo, double hi,
                const std::string& help);
/// Like get_real, but the value must be strictly greater than `lo_exclusive`.
double get_positive(const std::string& name, double fallback, const std::string& help,
                    double lo_exclusive = 0.0);
bool get_bool(const std::string& name, bool fallback, const std::string& help);
std::string get_string(const std::string& name, const std::string& fallback,
                       const std::string& help);
std::string get_choice(const std::string& name, const std::string& fallback,
                       const std::vector<std::string>& choices, const std::string& help);

/// Help lines recorded so far, in the order the options were read.
const std::vector<OptionHelp>& recorded_help();
void clear_recorded_help();

/// Throws InputError naming the first option in the database nobody read.
void reject_unused();

} // namespace options
} // namespace bilevel
