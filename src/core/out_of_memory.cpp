#include "bilevel/core/out_of_memory.hpp"

#include "bilevel/core/error.hpp"

#include <petscsys.h>

#include <array>
#include <cstdio>

namespace bilevel {

namespace {

using Malloc = PetscErrorCode (*)(size_t, PetscBool, int, const char[], const char[], void**);
using Realloc = PetscErrorCode (*)(size_t, int, const char[], const char[], void**);
Malloc g_malloc = nullptr;
Realloc g_realloc = nullptr;
std::size_t g_failed_bytes = 0;

PetscErrorCode recording_malloc(size_t bytes, PetscBool clear, int line, const char function[],
                                const char file[], void** result) {
  const PetscErrorCode code = g_malloc(bytes, clear, line, function, file, result);
  if (code != 0)
    g_failed_bytes = bytes;
  return code;
}

PetscErrorCode recording_realloc(size_t bytes, int line, const char function[], const char file[],
                                 void** result) {
  const PetscErrorCode code = g_realloc(bytes, line, function, file, result);
  if (code != 0)
    g_failed_bytes = bytes;
  return code;
}

} // namespace

void watch_petsc_allocations() {
  g_malloc = PetscTrMalloc;
  g_realloc = PetscTrRealloc;
  BB_PETSC(PetscMallocSet(recording_malloc, PetscTrFree, recording_realloc));
}

std::size_t take_failed_allocation() {
  const std::size_t bytes = g_failed_bytes;
  g_failed_bytes = 0;
  return bytes;
}

std::string human_bytes(double bytes) {
  constexpr std::array<const char*, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < units.size()) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", bytes, units[unit]);
  return text;
}

} // namespace bilevel
