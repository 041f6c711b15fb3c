#pragma once
// The verdict a run carries beside its status (HPCG's VALID/INVALID): whether its numbers can be
// trusted. `valid` unless an inner solve missed its tolerance ("suspect: ...", with each solver's
// count of failed iterations and the first one) or something known makes the numbers wrong
// ("invalid: ...": a method run on a lower level weaker than it assumes, a failed -validate).
#include <map>
#include <string>
#include <vector>

namespace bilevel {

class RunValidity {
public:
  /// Marks the run invalid for `reason` (the first reason given is kept first).
  void invalidate(const std::string& reason);
  /// Marks the run suspect for `reason` (something could not be checked).
  void doubt(const std::string& reason);
  /// Counts one iteration and the solvers that missed their tolerance in it.
  void count_iteration(int iteration, const std::vector<std::string>& failed_solvers);
  /// Carries the verdict of a run this one resumes (its earlier rows keep their verdict).
  void resume_from(const std::string& stored_verdict);
  bool valid() const {
    return invalid_.empty() && doubts_.empty() && failures_.empty() && earlier_.empty();
  }
  /// "valid", "suspect: <reasons>" or "invalid: <reasons>".
  std::string verdict() const;

private:
  struct Failures {
    int count = 0;
    int first_iteration = 0;
  };
  std::vector<std::string> invalid_, doubts_;
  std::map<std::string, Failures> failures_;
  int iterations_ = 0;
  std::string earlier_; ///< a resumed run's stored verdict, when not valid
};

} // namespace bilevel
