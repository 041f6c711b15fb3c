#include "harness.hpp"

#include <cblas.h>

#include <algorithm>
#include <ctime>

namespace bench {

namespace {
double median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

/// `work` per second of the median of `trials` runs of time_collective(comm, kernel), over wall
/// and over CPU time (each max-reduced over ranks, so every rank has the same medians).
template <class Kernel> Rate median_rate(MPI_Comm comm, int trials, double work, Kernel&& kernel) {
  std::vector<double> wall, cpu;
  for (int t = 0; t < trials; ++t) {
    double used = -process_cpu_seconds();
    wall.push_back(time_collective(comm, kernel));
    used += process_cpu_seconds();
    MPI_Allreduce(MPI_IN_PLACE, &used, 1, MPI_DOUBLE, MPI_MAX, comm);
    cpu.push_back(used);
  }
  return {work / median(wall), work / median(cpu)};
}
} // namespace

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

void report_counters(benchmark::State& state, const Cost& cost, double seconds, double cpu_seconds,
                     const Limits& limits) {
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["bytes"] = benchmark::Counter(cost.bytes);
  state.counters["flops"] = benchmark::Counter(cost.flops);
  // kIsRate divides by the benchmark's time, here the manual (slowest-rank) time.
  state.counters["bytes_per_second"] =
      benchmark::Counter(cost.bytes * iterations, benchmark::Counter::kIsRate);
  state.counters["flops_per_second"] =
      benchmark::Counter(cost.flops * iterations, benchmark::Counter::kIsRate);
  state.counters["stream_fraction"] =
      benchmark::Counter(cost.bytes * iterations / seconds / limits.stream_bytes.per_second);
  const double mean = seconds / iterations;
  const double stream_bound = cost.bytes / limits.stream_bytes.per_second;
  const double dgemm_bound = cost.flops / limits.dgemm_flops.per_second;
  state.counters["stream_bound_ratio"] = benchmark::Counter(mean / stream_bound);
  state.counters["dgemm_bound_ratio"] = benchmark::Counter(mean / dgemm_bound);
  state.counters["bound_ratio"] = benchmark::Counter(mean / std::max(stream_bound, dgemm_bound));
  const double cpu_bound = std::max(cost.bytes / limits.stream_bytes.per_cpu_second,
                                    cost.flops / limits.dgemm_flops.per_cpu_second);
  state.counters["cpu_bound_ratio"] = benchmark::Counter(cpu_seconds / iterations / cpu_bound);
}

Triad::Triad(MPI_Comm comm, std::size_t n) : comm_(comm), a_(n, 0.0), b_(n, 1.0), c_(n, 2.0) {}

void Triad::operator()() {
  constexpr double s = 3.0;
  double* a = a_.data();
  const double* b = b_.data();
  const double* c = c_.data();
  const std::size_t n = a_.size();
  for (std::size_t i = 0; i < n; ++i)
    a[i] = b[i] + s * c[i];
  // The stores must happen even though nothing reads a afterwards.
  benchmark::ClobberMemory();
}

Cost Triad::cost() const {
  int size = 1;
  MPI_Comm_size(comm_, &size);
  const double elements = static_cast<double>(a_.size()) * size;
  return {24.0 * elements, 2.0 * elements};
}

Rate Triad::reference_bandwidth(int trials) {
  return median_rate(comm_, trials, cost().bytes, *this);
}

Dgemm::Dgemm(MPI_Comm comm, int n)
    : comm_(comm), n_(n), a_(static_cast<std::size_t>(n) * n, 1.0),
      b_(static_cast<std::size_t>(n) * n, 0.5), c_(static_cast<std::size_t>(n) * n, 0.0) {}

void Dgemm::operator()() {
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n_, n_, n_, 1.0, a_.data(), n_, b_.data(),
              n_, 0.0, c_.data(), n_);
  benchmark::ClobberMemory();
}

Cost Dgemm::cost() const {
  int size = 1;
  MPI_Comm_size(comm_, &size);
  const double n = n_;
  return {3.0 * 8.0 * n * n * size, 2.0 * n * n * n * size};
}

Rate Dgemm::reference_rate(int trials) {
  return median_rate(comm_, trials, cost().flops, *this);
}

} // namespace bench
