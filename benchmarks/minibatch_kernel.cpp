#include "minibatch_kernel.hpp"

#include "bilevel/problems/finite_sum.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace bench {

namespace {

constexpr long long kSeed = 1;

/// Replicated, nonzero and the same on every rank without communication.
Eigen::VectorXd smooth_values(Eigen::Index n, double scale, double phase) {
  Eigen::VectorXd values(n);
  for (Eigen::Index i = 0; i < n; ++i)
    values[i] = scale * std::sin(0.37 * static_cast<double>(i) + phase);
  return values;
}

/// What one call must read and compute, summed over the ranks. finite_sum_quadratic's sample of
/// g is u, w, lin_y (2 ny + nx doubles; lin_x only enters grad_x g, not requested), of f u, w,
/// lin_y, lin_x (2 (ny + nx)); its flops are the dot products and updates of the rank-one terms
/// (residual, grad_y, the Hessian product and its cross term: about 17 ny + 8 nx per pair of
/// samples). hyperclean's samples are feature rows (ny / classes doubles) and a label, plus x_i
/// for g; the flops are its products with the features (scores, gradient, X V and X' R for g;
/// scores and gradient for f: 6 of 2 F C). Every rank reads the replicated y and v once and writes
/// the call's five means (3 ny + 2 nx doubles: hyperclean's x-means are nx = N_tr long, its
/// per-sample x-terms one entry each).
Cost minibatch_cost(const std::string& problem, double nx, double ny, int ranks) {
  const double batch = static_cast<double>(MinibatchKernel::kBatch);
  const double replicated = 8.0 * (2.0 * ny + 3.0 * ny + 2.0 * nx) * ranks;
  if (problem == "finite_sum_quadratic")
    return {8.0 * batch * ((2 * ny + nx) + 2 * (ny + nx)) + replicated, batch * (17 * ny + 8 * nx)};
  if (problem == "hyperclean") {
    constexpr double kClasses = 10;
    const double features = ny / kClasses;
    return {batch * (2 * (8.0 * features + 4.0) + 8.0) + replicated,
            batch * 6 * 2 * features * kClasses};
  }
  throw std::invalid_argument("minibatch_cost: no model for problem " + problem);
}

} // namespace

MinibatchKernel::MinibatchKernel(std::unique_ptr<bilevel::Problem> problem)
    : problem_(std::move(problem)), oracles_(*problem_),
      lower_(kSeed, bilevel::SampleRole::lower, oracles_.sums().samples(bilevel::SampleRole::lower),
             kBatch),
      upper_(kSeed, bilevel::SampleRole::upper, oracles_.sums().samples(bilevel::SampleRole::upper),
             kBatch) {
  x_ = smooth_values(problem_->nx(), 0.1, 0.0);
  y_ = smooth_values(problem_->ny(), 0.01, 1.0);
  v_ = smooth_values(problem_->ny(), 1.0, 2.0);
  int ranks = 1;
  MPI_Comm_size(problem_->comm(), &ranks);
  cost_ = minibatch_cost(problem_->name(), static_cast<double>(problem_->nx()),
                         static_cast<double>(problem_->ny()), ranks);
}

void MinibatchKernel::operator()() {
  const std::vector<long long> lower = lower_.draw(draw_);
  const std::vector<long long> upper = upper_.draw(draw_);
  ++draw_;
  const bilevel::MinibatchMeans means =
      oracles_.means(x_, y_, bilevel::MinibatchRequest::soba_directions(lower, upper, v_));
  benchmark::DoNotOptimize(means.hess_xy.data());
}

void register_minibatch_benchmark(MPI_Comm comm, const std::string& name, MinibatchKernel& kernel,
                                  int iterations, const Limits& limits) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  benchmark::RegisterBenchmark(
      name.c_str(),
      [comm, &kernel, limits, ranks](benchmark::State& state) {
        run_collective(state, comm, kernel.cost(), limits, [&kernel] { kernel(); });
        // kIsRate divides by the manual (slowest-rank) time.
        state.counters["samples_per_second_per_rank"] =
            benchmark::Counter(MinibatchKernel::samples_per_call() / ranks,
                               benchmark::Counter::kIsIterationInvariantRate);
      })
      ->Iterations(iterations)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

} // namespace bench
