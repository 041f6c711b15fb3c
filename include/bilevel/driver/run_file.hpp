#pragma once
// A run's HDF5 layout (docs/result-format.md), in one place: RunFile writes a run into one group
// of a file (the root for a single run, one group per line of a suite): the attributes and trace
// (ResultWriter), the checkpoint -restart_from needs (/x, /state/x_start, the algorithm's /state,
// written with every flush of the trace) and the final status and validity. StoredRun reads a
// run back for -restart_from. Both are collective on the communicator.
#include "bilevel/driver/driver.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/io/result_writer.hpp"

#include <functional>
#include <optional>
#include <string>

namespace bilevel {

class Algorithm;

class RunFile {
public:
  /// Starts `run` in `group` of `file`; with `resume`, the run stored there continues (its
  /// trace is appended to, its first start's attributes kept).
  RunFile(MPI_Comm comm, hid_t file, const std::string& group, const RunDescription& run,
          bool resume, double flush_interval_seconds);

  /// The trace, for the driver's rows.
  ResultWriter& trace() { return writer_; }
  /// Writes x, the run's first x (so a restart sets the algorithm up as the first start did)
  /// and the algorithm's state, then flushes the trace: the file can be resumed from here.
  void checkpoint(const Algorithm& algorithm, Vec x, Vec x_start);
  /// The final status and validity (RunValidity::verdict), timing and memory tables.
  void finish(RunStatus status, const std::string& validity) { writer_.finish(status, validity); }
  hid_t group() const { return writer_.group(); }

private:
  ResultWriter writer_;
};

/// The run stored at the root of a -restart_from file, opened read-only: the file is not
/// written until every check has passed and the run is set up (RunFile with `resume`).
/// Every input error names the option and the file.
class StoredRun {
public:
  /// Why the stored run's options (PetscOptionsGetAll's string) may not be continued with this
  /// run's, or nothing.
  using OptionCheck = std::function<std::optional<std::string>(const std::string& stored)>;

  /// Opens `path` and checks that it holds `run`'s problem and algorithm, options that
  /// `option_change` accepts, and a checkpoint; InputError otherwise.
  StoredRun(MPI_Comm comm, const std::string& path, const RunDescription& run,
            const OptionCheck& option_change);

  /// The x the run was set up at (/state/x_start; /x in files older than it).
  void read_x_start(Vec x) const;
  /// The stored validity verdict ("" in files older than the attribute).
  std::string validity() const;
  /// With the algorithm set up at read_x_start's x (kept in x_start): loads its state and the
  /// last checkpoint's x, and tells where the trace continues.
  RunStart resume(Algorithm& algorithm, Vec x, Vec x_start) const;
  const std::string& path() const { return path_; }

private:
  std::string path_;
  h5::File file_;
};

} // namespace bilevel
