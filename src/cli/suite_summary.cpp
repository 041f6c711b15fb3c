#include "bilevel/cli/suite_summary.hpp"
#include "bilevel/cli/option_words.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace bilevel::cli {

namespace {

const char* const kNotApplicable = "—";

/// Display width: "—" is three bytes of UTF-8 but one column on the terminal.
std::size_t columns(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string number(const char* format, double value) {
  if (!std::isfinite(value))
    return kNotApplicable;
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

using Option = std::pair<std::string, std::string>;

std::set<Option> method_options(const std::string& line) {
  std::set<Option> options;
  for (const auto& option : option_words(line))
    if (option.first != "-problem" && option.first != "-algorithm")
      options.insert(option);
  return options;
}

/// Per row, the options not shared by every row of the same problem and algorithm.
std::vector<std::string> variants(const std::vector<SuiteSummaryRow>& rows) {
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> pairs;
  for (std::size_t i = 0; i < rows.size(); ++i)
    pairs[{rows[i].problem, rows[i].algorithm}].push_back(i);
  std::vector<std::string> out(rows.size(), kNotApplicable);
  for (const auto& [pair, members] : pairs) {
    if (members.size() < 2)
      continue;
    std::set<Option> shared = method_options(rows[members[0]].options);
    for (std::size_t i : members) {
      std::set<Option> mine = method_options(rows[i].options), common;
      std::set_intersection(shared.begin(), shared.end(), mine.begin(), mine.end(),
                            std::inserter(common, common.end()));
      shared = std::move(common);
    }
    std::vector<std::string> texts;
    for (std::size_t i : members) {
      std::string text;
      for (const auto& [name, value] : option_words(rows[i].options))
        if (name != "-problem" && name != "-algorithm" && !shared.count({name, value}))
          text += (text.empty() ? "" : " ") + name + (value.empty() ? "" : " " + value);
      texts.push_back(text);
    }
    // Repetitions of one line have nothing to tell apart; otherwise an empty difference is
    // the row that keeps the defaults the others change.
    const bool repetitions =
        std::all_of(texts.begin(), texts.end(), [](const std::string& t) { return t.empty(); });
    for (std::size_t k = 0; k < members.size(); ++k)
      out[members[k]] = !texts[k].empty() ? texts[k] : repetitions ? kNotApplicable : "defaults";
  }
  return out;
}

} // namespace

std::string suite_summary_table(const std::vector<SuiteSummaryRow>& rows) {
  const std::vector<std::string> header = {"problem",         "algorithm",  "variant",  "status",
                                           "validity",        "iters",      "time [s]", "ms/iter",
                                           "upper objective", "|hypergrad|"};
  const std::vector<bool> numeric = {false, false, false, false, false,
                                     true,  true,  true,  true,  true};
  const auto variant = variants(rows);
  std::vector<std::vector<std::string>> cells = {header};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SuiteSummaryRow& r = rows[i];
    const bool iterated = r.iterations > 0;
    cells.push_back({r.problem, r.algorithm, variant[i], r.status,
                     r.validity.substr(0, r.validity.find(':')), std::to_string(r.iterations),
                     number("%.3f", r.seconds),
                     iterated ? number("%.3f", 1e3 * r.seconds / r.iterations) : kNotApplicable,
                     number("%.10e", r.objective), number("%.4e", r.grad_norm)});
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], columns(row[c]));
  std::string table;
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - columns(row[c]), ' ');
      line += (c ? "  " : "") + (numeric[c] ? pad + row[c] : row[c] + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    table += line + "\n";
  }
  return table;
}

} // namespace bilevel::cli
