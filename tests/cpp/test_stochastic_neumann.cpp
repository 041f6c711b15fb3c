// The stochastic Neumann-series estimate on the finite-sum quadratic. With every batch the full
// sum its estimates are deterministic, so they can be checked exactly: sum() is the deterministic
// truncated series (NeumannSeries on the full-batch Hessian), and the mean of sample() over its Q
// lengths is that same sum, which is why one sample of random length is unbiased for it. The
// random lengths are uniform over {0, ..., Q - 1}.
#include "test_support.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/finite_sum_quadratic.hpp"
#include "bilevel/solvers/neumann_series.hpp"
#include "bilevel/solvers/stochastic_neumann.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace bilevel::test {
namespace {

using Vector = Eigen::VectorXd;

const char* const kSmall = "-problem_n_inner 300 -problem_n_outer 70 -problem_dim_inner 9 "
                           "-problem_dim_outer 4 -seed 5";
constexpr double kEta = 0.1;
constexpr int kTerms = 7;

struct Fixture {
  std::unique_ptr<FiniteSumQuadratic> problem;
  OwnedVec x, y, b;
  Vector xe, ye, be;
  std::vector<long long> all;
};

Fixture fixture() {
  ScopedOptions scoped(kSmall);
  Fixture f;
  f.problem = std::make_unique<FiniteSumQuadratic>(
      PETSC_COMM_WORLD, FiniteSumQuadratic::Config::from_options(current_run()));
  const CounterRng rng(7, 11);
  const auto random = [&](Eigen::Index n, std::uint64_t offset) {
    Vector v(n);
    for (Eigen::Index i = 0; i < n; ++i)
      v[i] = rng.normal(offset + static_cast<std::uint64_t>(i));
    return v;
  };
  f.xe = random(f.problem->nx(), 0);
  f.ye = random(f.problem->ny(), 1000);
  f.be = random(f.problem->ny(), 2000);
  f.x = f.problem->create_x();
  f.y = f.problem->create_y();
  f.b = f.problem->create_y();
  scatter_owned(f.xe, f.x);
  scatter_owned(f.ye, f.y);
  scatter_owned(f.be, f.b);
  f.all.resize(static_cast<std::size_t>(f.problem->samples(SampleRole::lower)));
  std::iota(f.all.begin(), f.all.end(), 0LL);
  return f;
}

double relative(const Vector& a, const Vector& b) {
  return (a - b).norm() / b.norm();
}

TEST(StochasticNeumann, SumOnFullBatchesIsTheDeterministicSeries) {
  Fixture f = fixture();
  MinibatchOracles oracles(*f.problem);
  StochasticNeumann neumann(oracles);
  const Vector got = neumann.sum(f.xe, f.ye, f.be, kTerms, kEta, [&] { return f.all; });
  OwnedVec want = f.problem->create_y();
  NeumannSeries(f.y).apply(*f.problem, f.x, f.y, f.b, kTerms, kEta, want);
  EXPECT_LT(relative(got, gather_to_all(want)), 1e-13);
}

TEST(StochasticNeumann, SamplesOverAllLengthsAverageToTheSum) {
  Fixture f = fixture();
  MinibatchOracles oracles(*f.problem);
  StochasticNeumann neumann(oracles);
  const auto full = [&] { return f.all; };
  Vector mean = Vector::Zero(f.be.size());
  for (int length = 0; length < kTerms; ++length)
    mean += neumann.sample(f.xe, f.ye, f.be, length, kTerms, kEta, full) / kTerms;
  EXPECT_LT(relative(mean, neumann.sum(f.xe, f.ye, f.be, kTerms, kEta, full)), 1e-13);
}

TEST(StochasticNeumann, RandomLengthsAreUniform) {
  constexpr int kDraws = 20000;
  std::vector<int> counts(kTerms, 0);
  for (std::uint64_t k = 0; k < kDraws; ++k)
    ++counts[static_cast<std::size_t>(StochasticNeumann::random_length(3, k, kTerms))];
  // Each count is binomial(kDraws, 1/Q): about 2860 with a standard deviation of 49.
  for (const int count : counts)
    EXPECT_NEAR(count, kDraws / kTerms, 250);
}

} // namespace
} // namespace bilevel::test
