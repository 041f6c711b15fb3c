#pragma once
// The table a suite prints when it ends: one row per run, with the options that tell apart
// runs of the same problem and algorithm.
#include <string>
#include <vector>

namespace bilevel::cli {

struct SuiteSummaryRow {
  std::string problem, algorithm;
  std::string options; ///< the suite line
  std::string status, validity;
  int iterations;
  double seconds, objective, grad_norm; ///< NaN where the quantity does not apply
};

/// Columns as wide as their longest cell (names of any length stay aligned), numbers right-
/// aligned, "—" where a quantity does not apply (no hypergradient, no iteration), the validity
/// verdict's kind (valid / suspect / invalid), and a variant column: the options a row does not
/// share with every other row of its problem and algorithm ("—" when the pair has one row).
std::string suite_summary_table(const std::vector<SuiteSummaryRow>& rows);

} // namespace bilevel::cli
