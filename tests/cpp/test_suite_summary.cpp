// The suite's summary table: aligned whatever the names' lengths, a variant column naming the
// options that tell apart runs of one problem and algorithm, "—" where a quantity does not
// apply.
#include "bilevel/cli/suite_summary.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

using bilevel::cli::suite_summary_table;
using bilevel::cli::SuiteSummaryRow;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// Display columns of a line ("—" is one column, three bytes).
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (unsigned char c : line)
    n += (c & 0xC0) != 0x80;
  return n;
}

TEST(SuiteSummary, VariantColumnAndAlignment) {
  const std::vector<SuiteSummaryRow> rows = {
      {"toy_sc", "pgd_qp", "-problem toy_sc -algorithm pgd_qp -outer_iters 200", "completed",
       "valid", 200, 0.5, -0.137, 1e-9},
      {"toy_sc", "pgd_qp", "-problem toy_sc -algorithm pgd_qp -outer_iters 200 -alg_rho sqrt_h0",
       "completed", "valid", 200, 0.25, -0.137, kNaN},
      {"a_problem_with_a_very_long_name", "exact",
       "-problem a_problem_with_a_very_long_name "
       "-algorithm exact",
       "interrupted", "suspect: ksp failed", 0, 0.0, kNaN, kNaN}};
  const auto lines = lines_of(suite_summary_table(rows));
  ASSERT_EQ(lines.size(), 4U);
  // Every column starts at the same place on every line: the header's "variant" and "iters"
  // are above the rows' variants and iteration counts, whatever the problem names' length.
  const std::size_t variant = lines[0].find("variant");
  EXPECT_EQ(lines[1].find("defaults"), variant);
  EXPECT_EQ(lines[2].find("-alg_rho sqrt_h0"), variant);
  EXPECT_EQ(lines[3].find("—"), variant); // the only exact run: nothing to tell apart
  EXPECT_EQ(lines[1].find("toy_sc"), 0U);
  const std::size_t end = columns(lines[0]);
  for (const auto& line : lines)
    EXPECT_EQ(columns(line), end) << line; // right-aligned numbers end together
  // No hypergradient, no iterations: "—", not 0 or nan.
  EXPECT_NE(lines[2].rfind("—"), std::string::npos);
  EXPECT_EQ(lines[3].find("nan"), std::string::npos);
  EXPECT_NE(lines[3].find("suspect"), std::string::npos);
  EXPECT_EQ(lines[3].find("ksp failed"), std::string::npos); // the verdict's kind only
}

TEST(SuiteSummary, RepetitionsOfOneLineHaveNoVariant) {
  const SuiteSummaryRow row = {"quadratic", "aid",   "-problem quadratic -algorithm aid -seed 1",
                               "completed", "valid", 10,
                               0.1,         1.0,     1e-3};
  const auto lines = lines_of(suite_summary_table({row, row}));
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[1].find("—"), lines[0].find("variant"));
  EXPECT_EQ(lines[1].find("defaults"), std::string::npos);
}

} // namespace
