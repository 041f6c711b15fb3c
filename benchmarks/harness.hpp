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

/// A reference kernel's rate over wall-clock time and over CPU time (the latter discounts the
/// time other processes of a shared machine take the cores away).
struct Rate {
  double per_second;
  double per_cpu_second;
};

/// The machine's limits, measured at the start of the run: the two bounds of every kernel.
struct Limits {
  Rate stream_bytes; ///< STREAM triad bandwidth (Triad), all ranks
  Rate dgemm_flops;  ///< BLAS dgemm rate (Dgemm), all ranks
};

/// CPU seconds this process has used so far.
double process_cpu_seconds();

/// Sets the counters every kernel reports: bytes and flops per iteration, their rates,
/// stream_fraction (the achieved bandwidth over the triad's), and the kernel's time over each
/// bound: stream_bound_ratio (over bytes / STREAM), dgemm_bound_ratio (over flops / dgemm rate)
/// and bound_ratio (over the larger of the two, the time the kernel could take at best); and
/// cpu_bound_ratio, the same from CPU times (`cpu_seconds`: the slowest rank's, all iterations).
void report_counters(benchmark::State& state, const Cost& cost, double seconds, double cpu_seconds,
                     const Limits& limits);

/// The body of a benchmark: one untimed warm-up call (first-touch page faults, allocator
/// growth), then each iteration timed by time_collective (UseManualTime).
template <class Kernel>
void run_collective(benchmark::State& state, MPI_Comm comm, const Cost& cost, const Limits& limits,
                    Kernel&& kernel) {
  (void)time_collective(comm, kernel);
  double total = 0.0;
  double cpu = -process_cpu_seconds();
  for (auto _ : state) {
    const double seconds = time_collective(comm, kernel);
    state.SetIterationTime(seconds);
    total += seconds;
  }
  cpu += process_cpu_seconds();
  MPI_Allreduce(MPI_IN_PLACE, &cpu, 1, MPI_DOUBLE, MPI_MAX, comm);
  report_counters(state, cost, total, cpu, limits);
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
  Rate reference_bandwidth(int trials);

private:
  MPI_Comm comm_;
  std::vector<double> a_, b_, c_;
};

/// Square BLAS dgemm C = A B (n x n, OpenBLAS here) on every rank at once: the arithmetic rate
/// the kernels' flops are compared with, the best a dense product reaches on this machine.
class Dgemm {
public:
  /// Allocates three n x n matrices per rank.
  Dgemm(MPI_Comm comm, int n);
  void operator()();
  /// 2 n^3 flops per rank, summed over ranks (bytes: the three matrices once).
  Cost cost() const;
  /// Flops per second of the median of `trials` collective products (as Triad's bandwidth).
  Rate reference_rate(int trials);

private:
  MPI_Comm comm_;
  int n_;
  std::vector<double> a_, b_, c_;
};

} // namespace bench
