#include "bilevel/core/run_status.hpp"

namespace bilevel {

std::string status_word(RunStatus status) {
  switch (status) {
  case RunStatus::running:
    return "running";
  case RunStatus::completed:
    return "completed";
  case RunStatus::converged:
    return "converged";
  case RunStatus::diverged:
    return "diverged";
  case RunStatus::interrupted:
    return "interrupted";
  }
  return "running"; // unreachable: every enumerator is handled above (-Wswitch checks it)
}

} // namespace bilevel
