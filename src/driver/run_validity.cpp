#include "bilevel/driver/run_validity.hpp"

#include <algorithm>

namespace bilevel {

void RunValidity::invalidate(const std::string& reason) {
  if (std::find(invalid_.begin(), invalid_.end(), reason) == invalid_.end())
    invalid_.push_back(reason);
}

void RunValidity::doubt(const std::string& reason) {
  if (std::find(doubts_.begin(), doubts_.end(), reason) == doubts_.end())
    doubts_.push_back(reason);
}

void RunValidity::count_iteration(int iteration, const std::vector<std::string>& failed_solvers) {
  ++iterations_;
  for (const auto& solver : failed_solvers) {
    auto [it, inserted] = failures_.try_emplace(solver);
    if (inserted)
      it->second.first_iteration = iteration;
    ++it->second.count;
  }
}

void RunValidity::resume_from(const std::string& stored_verdict) {
  if (!stored_verdict.empty() && stored_verdict != "valid")
    earlier_ = stored_verdict;
}

std::string RunValidity::verdict() const {
  std::string reasons;
  const auto add = [&](const std::string& reason) {
    reasons += (reasons.empty() ? "" : "; ") + reason;
  };
  for (const auto& reason : invalid_)
    add(reason);
  for (const auto& reason : doubts_)
    add(reason);
  for (const auto& [solver, f] : failures_)
    add(solver + " missed its tolerance in " + std::to_string(f.count) + " of " +
        std::to_string(iterations_) + " iterations (first at iteration " +
        std::to_string(f.first_iteration) + ")");
  if (!earlier_.empty())
    add("before the restart: " + earlier_);
  if (reasons.empty())
    return "valid";
  const bool invalid = !invalid_.empty() || earlier_.rfind("invalid", 0) == 0;
  return (invalid ? "invalid: " : "suspect: ") + reasons;
}

} // namespace bilevel
