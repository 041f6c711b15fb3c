#include "harness.hpp"

#include <algorithm>

namespace bench {

void report_counters(benchmark::State& state, const Cost& cost, double seconds,
                     double stream_bytes_per_second) {
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["bytes"] = benchmark::Counter(cost.bytes);
  // kIsRate divides by the benchmark's time, here the manual (slowest-rank) time.
  state.counters["bytes_per_second"] =
      benchmark::Counter(cost.bytes * iterations, benchmark::Counter::kIsRate);
  state.counters["flops_per_second"] =
      benchmark::Counter(cost.flops * iterations, benchmark::Counter::kIsRate);
  state.counters["stream_fraction"] =
      benchmark::Counter(cost.bytes * iterations / seconds / stream_bytes_per_second);
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

double Triad::reference_bandwidth(int trials) {
  std::vector<double> seconds;
  for (int t = 0; t < trials; ++t)
    seconds.push_back(time_collective(comm_, *this));
  // Every rank has the same (max-reduced) times, hence the same median.
  const auto middle = seconds.begin() + trials / 2;
  std::nth_element(seconds.begin(), middle, seconds.end());
  return cost().bytes / *middle;
}

} // namespace bench
