#include "bilevel/cli/restart_options.hpp"
#include "bilevel/cli/option_words.hpp"

#include <map>
#include <set>
#include <vector>

namespace bilevel::cli {

namespace {

bool may_change(const std::string& name) {
  static const std::set<std::string> kRunControl = {
      "-outer_iters",     "-time_budget",    "-tol",    "-monitor",      "-report_every",
      "-objective_every", "-flush_interval", "-output", "-restart_from", "-log_view"};
  return kRunControl.count(name) > 0 || name.find("monitor") != std::string::npos ||
         name.find("view") != std::string::npos;
}

std::string shown(const std::optional<std::string>& value) {
  if (!value)
    return "not given";
  return value->empty() ? "given" : "'" + *value + "'";
}

} // namespace

std::optional<std::string> restart_option_change(const std::string& stored,
                                                 const std::string& current) {
  const auto before = option_words(stored), now = option_words(current);
  const std::map<std::string, std::string> before_map(before.begin(), before.end()),
      now_map(now.begin(), now.end());
  auto value_in = [](const std::map<std::string, std::string>& options, const std::string& name) {
    const auto found = options.find(name);
    return found == options.end() ? std::nullopt : std::optional<std::string>(found->second);
  };
  std::vector<std::string> names;
  for (const auto& [name, value] : before)
    names.push_back(name);
  for (const auto& [name, value] : now)
    names.push_back(name);
  for (const auto& name : names) {
    if (may_change(name))
      continue;
    const auto old_value = value_in(before_map, name), new_value = value_in(now_map, name);
    if (old_value != new_value)
      return "option " + name + " is " + shown(new_value) + " here but was " + shown(old_value) +
             " in the stored run; a restart keeps the instance and method options (it may "
             "change the iteration count, time budget, tolerance, monitors and output)";
  }
  return std::nullopt;
}

} // namespace bilevel::cli
