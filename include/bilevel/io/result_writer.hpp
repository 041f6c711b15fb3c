#pragma once
// Streams one run to HDF5 under the contract of docs/result-format.md: attributes on the run's
// group, one extensible chunked float64 dataset per trace metric, /x, /timing. The file is
// flushed at least every `flush_interval` seconds of run time, and `status` is kept true: it is
// "running" until finish() writes the final one. Collective on the writer's communicator.
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/core/run_status.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/io/space_reservation.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace bilevel {

struct RunDescription {
  std::string problem;
  std::string algorithm;
  std::string options;
  long long seed = 0;
};

class ResultWriter {
public:
  /// Starts a run in `group` of `file` (the file root for single runs). With `resume`, the
  /// existing trace is kept and appended to.
  ResultWriter(MPI_Comm comm, hid_t file, const std::string& group, const RunDescription& run,
               bool resume, double flush_interval_seconds);

  /// Appends one row. The first row fixes the metric names; later rows must carry the same.
  void append(const Record& record);
  /// Rows in the trace (including rows from a resumed run).
  hsize_t rows() const { return rows_; }
  /// Whether a flush is due by the flush interval; the caller decides collectively.
  bool flush_due() const;
  /// Writes the checkpoint (`write_checkpoint` writes x and the algorithm's state into the run's
  /// group) and the pending rows, and flushes. Disk space for it all is claimed first, so a
  /// full disk is an IoError on every rank that leaves the file as the last flush left it.
  void flush(const std::function<void(hid_t group)>& write_checkpoint = {});
  /// Writes the final status and validity (RunValidity::verdict), finish time, /timing and
  /// /memory, and flushes.
  void finish(RunStatus status, const std::string& validity);
  hid_t group() const { return group_; }
  /// First and last value of a trace metric in the file (NaN if the trace is empty or has no
  /// such metric); rows not yet flushed are not seen.
  double first(const std::string& metric) const;
  double last(const std::string& metric) const;

private:
  struct Column {
    std::string name;
    h5::Dataset dataset;
  };
  void open_columns(const Record& first);
  /// Claims disk space for the next batch of writes: a floor for metadata and small tables, a
  /// chunk per column (SpaceReservation adds twice the largest batch so far).
  void reserve_space();
  /// Appends the pending rows to every column (collective, each step agreed).
  void write_pending();
  void write_timing();
  /// /communication: bytes of the suite's own collectives per stage (docs/result-format.md).
  void write_communication();
  /// /memory: peak memory per rank (docs/result-format.md).
  void write_memory();
  /// Folds PETSc's current resident-set size into sampled_peak_.
  void sample_memory();

  MPI_Comm comm_;
  hid_t file_;
  SpaceReservation space_;
  h5::Group group_;
  h5::Group trace_;
  std::vector<Column> columns_;
  hsize_t rows_ = 0;
  std::vector<std::vector<double>> pending_; ///< rows not yet written, flushed in one block
  std::chrono::steady_clock::time_point last_flush_;
  double flush_interval_;
  double sampled_peak_ = 0.0; ///< bytes, this rank
};

/// UTC time as ISO 8601, for started_utc / finished_utc.
std::string utc_now();

} // namespace bilevel
