#pragma once
// Google Benchmark under MPI. Every benchmark here is collective: all ranks run the same
// benchmarks with the same fixed iteration count (a count each rank chose from its own timings
// would differ between ranks and deadlock the collectives), and every iteration is reported as
// the slowest rank's time, since a collective kernel is only done when its last rank is.
#include "collective_timer.hpp"

#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cstddef>
#include <ostream>
#include <vector>

namespace bench {

/// Work of one iteration of a kernel, summed over all ranks. Each kernel states its model.
struct Cost {
  double bytes; ///< main-memory traffic
  double flops; ///< floating-point operations
};

/// Sets the counters every kernel reports: bytes and flops per iteration, their rates, and
/// stream_fraction, the achieved bandwidth over the STREAM triad bandwidth of this run.
void report_counters(benchmark::State& state, const Cost& cost, double seconds,
                     double stream_bytes_per_second);

/// The body of a benchmark: one untimed warm-up call (first-touch page faults, allocator
/// growth), then each iteration timed by time_collective (UseManualTime).
template <class Kernel>
void run_collective(benchmark::State& state, MPI_Comm comm, const Cost& cost,
                    double stream_bytes_per_second, Kernel&& kernel) {
  (void)time_collective(comm, kernel);
  double total = 0.0;
  for (auto _ : state) {
    const double seconds = time_collective(comm, kernel);
    state.SetIterationTime(seconds);
    total += seconds;
  }
  report_counters(state, cost, total, stream_bytes_per_second);
}

/// The reporter of ranks other than 0: they run every benchmark but print nothing.
class NullReporter final : public benchmark::BenchmarkReporter {
public:
  NullReporter() {
    SetOutputStream(&sink_);
    SetErrorStream(&sink_);
  }
  // Returning false would make RunSpecifiedBenchmarks skip the run on this rank.
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}

private:
  // No stream buffer: what Google Benchmark writes outside the reports (the listing of
  // --benchmark_list_tests, error lines rank 0 prints too) is discarded.
  std::ostream sink_{nullptr};
};

/// STREAM's triad a = b + s c on plain per-rank arrays, every rank at once: the sustainable
/// memory bandwidth the kernels are compared with.
class Triad {
public:
  /// Allocates and first-touches three arrays of `n` doubles on each rank.
  Triad(MPI_Comm comm, std::size_t n);
  void operator()();
  /// STREAM's byte model, summed over ranks: read b and c, write a (24 bytes per element; the
  /// write-allocate read of a is not counted, as in STREAM). Two flops per element.
  Cost cost() const;
  /// Bytes per second of the median of `trials` collective triads. STREAM reports the best
  /// trial, but the kernels report mean times, and on a shared machine the best trial is an
  /// outlier that would understate every kernel's fraction.
  double reference_bandwidth(int trials);

private:
  MPI_Comm comm_;
  std::vector<double> a_, b_, c_;
};

} // namespace bench
