#include "bilevel/io/result_writer.hpp"

#include "bilevel/core/blas_kernels.hpp"
#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/version.hpp"

#include <petsclog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>

namespace bilevel {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

namespace {

std::string hostname() {
  char buffer[256] = {0};
  gethostname(buffer, sizeof buffer - 1);
  return buffer;
}

/// Equal-length 1-D datasets of a table (rows written by rank 0; every rank takes part, as
/// dataset creation is collective), replacing what an earlier write of the table left.
class TableWriter {
public:
  TableWriter(MPI_Comm comm, h5::Group group, std::size_t rows)
      : comm_(comm), group_(std::move(group)), dims_{rows} {
    MPI_Comm_rank(comm, &rank_);
  }

  void numbers(const char* name, hid_t file_type, const std::vector<double>& values) const {
    write(name, file_type, H5T_NATIVE_DOUBLE, values.data());
  }

  /// Fixed-width strings, as wide as the longest entry.
  void strings(const char* name, const std::vector<std::string>& values) const {
    std::size_t width = 1;
    for (const auto& str : values)
      width = std::max(width, str.size());
    std::vector<char> packed(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i].copy(packed.data() + i * width, width);
    h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
    h5::check(H5Tset_size(type, width), "H5Tset_size");
    write(name, type, type, packed.data());
  }

private:
  void write(const char* name, hid_t file_type, hid_t mem_type, const void* data) const {
    h5::agree(comm_, group_, [&] {
      if (H5Lexists(group_, name, H5P_DEFAULT) > 0)
        H5Ldelete(group_, name, H5P_DEFAULT);
      h5::Dataspace space(h5::check(H5Screate_simple(1, dims_, nullptr), "H5Screate_simple"));
      h5::Dataset dataset(h5::check(
          H5Dcreate2(group_, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          "H5Dcreate2"));
      if (rank_ != 0 || dims_[0] == 0)
        h5::check(H5Sselect_none(space), "H5Sselect_none");
      h5::check(H5Dwrite(dataset, mem_type, space, space, H5P_DEFAULT, data), "H5Dwrite");
    });
  }

  MPI_Comm comm_;
  h5::Group group_;
  hsize_t dims_[1];
  int rank_ = 0;
};

/// The same string on every rank (attributes are collective: all ranks must write equal data).
std::string broadcast(MPI_Comm comm, std::string text) {
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  text.resize(static_cast<std::size_t>(length));
  MPI_Bcast(text.data(), length, MPI_CHAR, 0, comm);
  return text;
}

constexpr hsize_t kChunkRows = 1024;
/// Room always claimed ahead of a batch of writes, for metadata and the small tables.
constexpr hsize_t kReserveFloor = 32 * 1024;

} // namespace

ResultWriter::ResultWriter(MPI_Comm comm, hid_t file, const std::string& group,
                           const RunDescription& run, bool resume, double flush_interval_seconds)
    : comm_(comm), file_(file), space_(comm, file), group_(h5::require_group(file, group)),
      last_flush_(std::chrono::steady_clock::now()), flush_interval_(flush_interval_seconds) {
  int nranks = 1;
  MPI_Comm_size(comm_, &nranks);
  reserve_space();
  const std::string started = broadcast(comm_, utc_now());
  const std::string host = broadcast(comm_, hostname());
  const std::string kernels = broadcast(comm_, blas_kernels());
  h5::agree(comm_, file_, [&] {
    if (!resume) {
      h5::write_attribute(group_, "format_version", static_cast<long long>(kFormatVersion));
      h5::write_attribute(group_, "started_utc", started);
    }
    h5::write_attribute(group_, "suite_version", std::string(kSuiteVersion));
    h5::write_attribute(group_, "git_commit", std::string(kGitCommit));
    h5::write_attribute(group_, "problem", run.problem);
    h5::write_attribute(group_, "algorithm", run.algorithm);
    h5::write_attribute(group_, "nranks", static_cast<long long>(nranks));
    h5::write_attribute(group_, "seed", run.seed);
    h5::write_attribute(group_, "hostname", host);
    h5::write_attribute(group_, "blas_kernels", kernels);
    // Every start of the run (the first and each restart) adds its options, one per line.
    const bool continued = resume && H5Aexists(group_, "options_history") > 0;
    const std::string history =
        continued ? h5::read_string_attribute(group_, "options_history") + "\n" : "";
    h5::write_attribute(group_, "options", run.options);
    h5::write_attribute(group_, "options_history", history + run.options);
    h5::write_attribute(group_, "finished_utc", std::string());
    h5::write_attribute(group_, "status", status_word(RunStatus::running));
    trace_ = h5::require_group(group_, "trace");
    if (resume && h5::exists(group_, "trace/iteration")) {
      // Reopen the existing columns in their stored order (creation order is tracked).
      const auto iterations = h5::read_all(trace_, "iteration");
      rows_ = iterations.size();
    }
  });
  h5::agree(comm_, file_, [&] { h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "H5Fflush"); });
  space_.settle();
}

void ResultWriter::open_columns(const Record& first) {
  for (const auto& [name, value] : first.entries()) {
    (void)value;
    h5::Dataset dataset;
    if (h5::exists(trace_, name)) {
      dataset = h5::Dataset(h5::check(H5Dopen2(trace_, name.c_str(), H5P_DEFAULT), "H5Dopen2"));
    } else {
      if (rows_ > 0)
        throw InputError("cannot resume: the stored trace has no column '" + name + "'");
      const hsize_t dims[1] = {0};
      const hsize_t max_dims[1] = {H5S_UNLIMITED};
      h5::Dataspace space(h5::check(H5Screate_simple(1, dims, max_dims), "H5Screate_simple"));
      h5::PropertyList create(h5::check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"));
      const hsize_t chunk[1] = {kChunkRows};
      h5::check(H5Pset_chunk(create, 1, chunk), "H5Pset_chunk");
      // No fill values: parallel HDF5 writes them while extending, inside a collective call that
      // hangs the other ranks when the write fails on one (a full disk). Every row is written.
      h5::check(H5Pset_fill_time(create, H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
      dataset = h5::Dataset(h5::check(H5Dcreate2(trace_, name.c_str(), H5T_NATIVE_DOUBLE, space,
                                                 H5P_DEFAULT, create, H5P_DEFAULT),
                                      "H5Dcreate2"));
    }
    columns_.push_back({name, std::move(dataset)});
  }
}

void ResultWriter::append(const Record& record) {
  sample_memory();
  if (columns_.empty())
    open_columns(record);
  std::vector<double> row;
  row.reserve(columns_.size());
  for (const auto& column : columns_) {
    if (!record.has(column.name))
      throw RuntimeFailure("trace row lacks metric '" + column.name + "'");
    row.push_back(record.get(column.name));
  }
  if (record.entries().size() != columns_.size())
    throw RuntimeFailure("trace row has metrics the first row did not have");
  pending_.push_back(std::move(row));
}

bool ResultWriter::flush_due() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_).count();
  return elapsed >= flush_interval_;
}

void ResultWriter::write_pending() {
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  const hsize_t count[1] = {pending_.size()};
  const hsize_t start[1] = {rows_};
  const hsize_t new_size[1] = {rows_ + pending_.size()};
  std::vector<double> column_values(pending_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    // Agreed after each call that may fail on one rank (a full disk), before the next
    // collective one: set_extent allocates chunks collectively, rank 0 writes alone.
    h5::agree(comm_, file_,
              [&] { h5::check(H5Dset_extent(columns_[c].dataset, new_size), "H5Dset_extent"); });
    h5::agree(comm_, file_, [&] {
      h5::Dataspace file_space(h5::check(H5Dget_space(columns_[c].dataset), "H5Dget_space"));
      // The values are identical on every rank; rank 0 writes them, the others select nothing.
      if (rank == 0) {
        for (std::size_t r = 0; r < pending_.size(); ++r)
          column_values[r] = pending_[r][c];
        h5::check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr),
                  "H5Sselect_hyperslab");
        h5::Dataspace mem_space(h5::check(H5Screate_simple(1, count, nullptr), "H5Screate"));
        h5::check(H5Dwrite(columns_[c].dataset, H5T_NATIVE_DOUBLE, mem_space, file_space,
                           H5P_DEFAULT, column_values.data()),
                  "H5Dwrite trace");
      } else {
        h5::check(H5Sselect_none(file_space), "H5Sselect_none");
        h5::check(H5Dwrite(columns_[c].dataset, H5T_NATIVE_DOUBLE, file_space, file_space,
                           H5P_DEFAULT, nullptr),
                  "H5Dwrite trace");
      }
    });
  }
}

void ResultWriter::reserve_space() {
  const hsize_t chunk_bytes = kChunkRows * sizeof(double) + 4096; // and its index entry
  space_.claim(kReserveFloor + columns_.size() * chunk_bytes);
}

void ResultWriter::flush(const std::function<void(hid_t group)>& write_checkpoint) {
  LogScope scope(log_events().output);
  reserve_space();
  if (write_checkpoint)
    write_checkpoint(group_);
  if (!pending_.empty()) {
    try {
      write_pending();
    } catch (const IoError&) {
      // Back to the rows written whole (every rank is here: the failure was agreed), so the
      // file never shows a row of fill values as if it had been written.
      const hsize_t written[1] = {rows_};
      for (const auto& column : columns_)
        (void)H5Dset_extent(column.dataset, written);
      throw;
    }
    rows_ += pending_.size();
    pending_.clear();
  }
  h5::agree(comm_, file_, [&] { h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "H5Fflush"); });
  space_.settle();
  last_flush_ = std::chrono::steady_clock::now();
}

void ResultWriter::write_timing() {
  // Every (stage, event) pair that ran on any rank: count and time max over ranks, flops summed.
  // Stages keep the timed steps ("BBIterations") apart from reporting and setup ("Main Stage").
  PetscStageLog stage_log = nullptr;
  BB_PETSC(PetscLogGetStageLog(&stage_log));
  const int n_stages = stage_log->numStages;
  const int n_events = stage_log->eventLog->numEvents;
  std::vector<double> local(3 * static_cast<std::size_t>(n_stages * n_events), 0.0);
  for (int s = 0; s < n_stages; ++s)
    for (int e = 0; e < n_events; ++e) {
      PetscEventPerfInfo info{};
      BB_PETSC(PetscLogEventGetPerfInfo(s, e, &info));
      double* row = local.data() + 3 * (static_cast<std::size_t>(s) * n_events + e);
      row[0] = info.count;
      row[1] = info.time;
      row[2] = info.flops;
    }
  std::vector<double> maxed(local.size()), summed(local.size());
  MPI_Allreduce(local.data(), maxed.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_MAX,
                comm_);
  MPI_Allreduce(local.data(), summed.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_SUM,
                comm_);
  std::vector<std::string> stages, names;
  std::vector<double> counts, times, flops;
  for (int s = 0; s < n_stages; ++s)
    for (int e = 0; e < n_events; ++e) {
      const std::size_t i = 3 * (static_cast<std::size_t>(s) * n_events + e);
      if (maxed[i] <= 0)
        continue;
      stages.emplace_back(stage_log->stageInfo[s].name);
      names.emplace_back(stage_log->eventLog->eventInfo[e].name);
      counts.push_back(maxed[i]);
      times.push_back(maxed[i + 1]);
      flops.push_back(summed[i + 2]);
    }
  const TableWriter table(comm_, h5::require_group(group_, "timing"), names.size());
  table.strings("stage", stages);
  table.strings("event", names);
  table.numbers("count", H5T_STD_I64LE, counts);
  table.numbers("time", H5T_IEEE_F64LE, times);
  table.numbers("flops", H5T_IEEE_F64LE, flops);
}

void ResultWriter::write_communication() {
  // The suite's own collectives per (stage, kind), from rank 0's ledger: every rank makes the
  // same collective calls, so the ledgers agree.
  PetscStageLog stage_log = nullptr;
  BB_PETSC(PetscLogGetStageLog(&stage_log));
  const auto& tallies = collective_tallies();
  std::vector<std::string> stages, kinds;
  std::vector<double> calls, bytes;
  for (std::size_t s = 0; s < tallies.size(); ++s)
    for (const Collective kind : kCollectives) {
      const CollectiveTally& t = tallies[s][static_cast<std::size_t>(kind)];
      if (t.calls == 0)
        continue;
      stages.emplace_back(stage_log->stageInfo[s].name);
      kinds.emplace_back(collective_name(kind));
      calls.push_back(t.calls);
      bytes.push_back(t.bytes);
    }
  const TableWriter table(comm_, h5::require_group(group_, "communication"), stages.size());
  table.strings("stage", stages);
  table.strings("collective", kinds);
  table.numbers("calls", H5T_STD_I64LE, calls);
  table.numbers("bytes", H5T_IEEE_F64LE, bytes);
}

void ResultWriter::sample_memory() {
  // One read of /proc per trace row. PETSc's own high-water mark (PetscMemorySetGetMaximumUsage)
  // samples at every object destruction instead, which made small runs 3x slower (toy_sc/itd:
  // ~100k Vec destructions in 200 iterations, each then reading /proc).
  PetscLogDouble current = 0;
  BB_PETSC(PetscMemoryGetCurrentUsage(&current));
  sampled_peak_ = std::max(sampled_peak_, static_cast<double>(current));
}

void ResultWriter::write_memory() {
  // Per rank: the resident set size PETSc reports (PetscMemoryGetCurrentUsage), its maximum over
  // the trace rows and now, and the kernel's exact peak resident set size (getrusage's
  // ru_maxrss, in KiB on Linux), which also catches a peak between two rows.
  sample_memory();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double local[2] = {sampled_peak_, 1024.0 * static_cast<double>(usage.ru_maxrss)};
  int nranks = 1;
  MPI_Comm_size(comm_, &nranks);
  std::vector<double> all(2 * static_cast<std::size_t>(nranks));
  MPI_Allgather(local, 2, MPI_DOUBLE, all.data(), 2, MPI_DOUBLE, comm_);
  std::vector<double> petsc(all.size() / 2), rss(all.size() / 2);
  for (std::size_t r = 0; r < petsc.size(); ++r) {
    petsc[r] = all[2 * r];
    rss[r] = all[2 * r + 1];
  }
  h5::Group memory = h5::require_group(group_, "memory");
  h5::write_dense(comm_, memory, "petsc_sampled_max_bytes", petsc, petsc.size(), 0);
  h5::write_dense(comm_, memory, "peak_rss_bytes", rss, rss.size(), 0);
}

void ResultWriter::finish(RunStatus status, const std::string& validity) {
  flush();
  reserve_space();
  write_timing();
  write_communication();
  write_memory();
  const std::string finished = broadcast(comm_, utc_now());
  h5::agree(comm_, file_, [&] {
    h5::write_attribute(group_, "finished_utc", finished);
    h5::write_attribute(group_, "status", status_word(status));
    h5::write_attribute(group_, "validity", validity);
    h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "H5Fflush");
  });
}

namespace {
/// One end of a stored trace column, NaN when there is none.
double end_of(hid_t trace, const std::string& metric, bool last) {
  if (!h5::exists(trace, metric))
    return std::numeric_limits<double>::quiet_NaN();
  const auto values = h5::read_all(trace, metric);
  if (values.empty())
    return std::numeric_limits<double>::quiet_NaN();
  return last ? values.back() : values.front();
}
} // namespace

double ResultWriter::first(const std::string& metric) const {
  return end_of(trace_, metric, false);
}

double ResultWriter::last(const std::string& metric) const {
  return end_of(trace_, metric, true);
}

} // namespace bilevel
