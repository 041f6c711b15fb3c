#include "bilevel/driver/run_file.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/methods/algorithm.hpp"

namespace bilevel {

namespace {

/// Runs `read`, prefixing its input errors with the option and the file they concern.
template <class Read> void reading(const std::string& path, Read read) {
  try {
    read();
  } catch (const InputError& e) {
    throw InputError("-restart_from " + path + ": " + e.what());
  }
}

} // namespace

RunFile::RunFile(MPI_Comm comm, hid_t file, const std::string& group, const RunDescription& run,
                 bool resume, double flush_interval_seconds)
    : writer_(comm, file, group, run, resume, flush_interval_seconds) {}

void RunFile::checkpoint(const Algorithm& algorithm, Vec x, Vec x_start) {
  writer_.flush([&](hid_t group) {
    h5::Group state = h5::require_group(group, "state");
    algorithm.save_state(state);
    const std::string why_not = algorithm.why_not_restartable();
    h5::write_attribute(state, "restartable", why_not.empty() ? 1LL : 0LL);
    if (!why_not.empty())
      h5::write_attribute(state, "not_restartable", why_not);
    h5::write_vec(state, "x_start", x_start);
    h5::write_vec(group, "x", x);
  });
}

StoredRun::StoredRun(MPI_Comm comm, const std::string& path, const RunDescription& run,
                     const OptionCheck& option_change)
    : path_(path) {
  reading(path_, [&] {
    file_ = h5::open_file(comm, path_, "r");
    const std::string problem = h5::read_string_attribute(file_, "problem");
    const std::string algorithm = h5::read_string_attribute(file_, "algorithm");
    if (problem != run.problem || algorithm != run.algorithm)
      throw InputError("it holds a run of " + problem + "/" + algorithm + ", not " + run.problem +
                       "/" + run.algorithm);
    if (const auto change = option_change(h5::read_string_attribute(file_, "options")))
      throw InputError(*change);
    if (!h5::exists(file_, "state"))
      throw InputError("group '/state' is missing (the run was never checkpointed)");
    // Refused here, before the problem's data and the algorithm are set up (files older than
    // the attribute could always continue).
    h5::Group state = h5::require_group(file_, "state");
    if (H5Aexists(state, "restartable") > 0 && h5::read_int_attribute(state, "restartable") == 0)
      throw InputError(h5::read_string_attribute(state, "not_restartable"));
  });
}

void StoredRun::read_x_start(Vec x) const {
  // The algorithm is set up at the run's first x, as the stopped run was, so what setup derives
  // from it (1/L inner steps, curvature estimates, the first lower iterate) is the same; files
  // older than /state/x_start set up at the stored x.
  reading(path_, [&] {
    h5::read_vec(file_, h5::exists(file_, "state/x_start") ? "state/x_start" : "x", x);
  });
}

std::string StoredRun::validity() const {
  std::string verdict;
  reading(path_, [&] {
    if (H5Aexists(file_, "validity") > 0) // files older than the validity attribute have none
      verdict = h5::read_string_attribute(file_, "validity");
  });
  return verdict;
}

RunStart StoredRun::resume(Algorithm& algorithm, Vec x, Vec x_start) const {
  RunStart start;
  start.x_start = x_start;
  reading(path_, [&] {
    h5::Group state = h5::require_group(file_, "state");
    algorithm.load_state(state);
    h5::read_vec(file_, "x", x);
    // A run stopped within its first iteration has no trace columns yet.
    if (h5::exists(file_, "trace/iteration")) {
      const auto iterations = h5::read_all(file_, "trace/iteration");
      const auto times = h5::read_all(file_, "trace/time");
      start.first_iteration = iterations.empty() ? 0 : static_cast<int>(iterations.back()) + 1;
      start.time_offset = times.empty() ? 0.0 : times.back();
      // The last row's cumulative counts (0 for a column the file does not have).
      start.oracle_counts = OracleCounts::from_row([&](const char* column) {
        const std::string path = std::string("trace/") + column;
        if (iterations.empty() || !h5::exists(file_, path))
          return 0.0;
        return h5::read_all(file_, path).back();
      });
    }
  });
  return start;
}

} // namespace bilevel
