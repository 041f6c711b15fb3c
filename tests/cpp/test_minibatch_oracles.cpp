// The finite-sum quadratic's per-sample oracles and the minibatch means built on them: Hessian
// products against central differences of the per-sample gradients, the mean over every sample
// against the full-batch oracles (which test_derivatives checks against differences of f and g),
// a batch's mean against the mean of its columns gathered one by one, and the same means on one
// rank (the instance built on MPI_COMM_SELF) as on all ranks of the run.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/finite_sum_quadratic.hpp"
#include "bilevel/solvers/minibatch_oracles.hpp"
#include "bilevel/solvers/minibatch_sampler.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace bilevel::test {
namespace {

using Vector = Eigen::VectorXd;
using Matrix = Eigen::MatrixXd;

const char* const kSmall = "-problem_n_inner 300 -problem_n_outer 70 -problem_dim_inner 9 "
                           "-problem_dim_outer 4 -seed 5";

std::unique_ptr<FiniteSumQuadratic> small_instance(MPI_Comm comm) {
  ScopedOptions scoped(kSmall);
  return std::make_unique<FiniteSumQuadratic>(
      comm, FiniteSumQuadratic::Config::from_options(current_run()));
}

Vector random_vector(Eigen::Index n, std::uint64_t stream) {
  const CounterRng rng(99, stream);
  Vector v(n);
  for (Eigen::Index i = 0; i < n; ++i)
    v[i] = rng.normal(static_cast<std::uint64_t>(i));
  return v;
}

double relative(const Matrix& a, const Matrix& b) {
  return (a - b).norm() / std::max(b.norm(), 1e-300);
}

/// Every sample of `role` this rank owns.
std::vector<long long> all_owned(const FiniteSumProblem& sums, SampleRole role) {
  const SampleRange range = sums.local_samples(role);
  std::vector<long long> owned(static_cast<std::size_t>(range.count));
  std::iota(owned.begin(), owned.end(), range.first);
  return owned;
}

/// A sum over ranks of local column sums.
Vector summed(MPI_Comm comm, const Matrix& columns) {
  Vector s = columns.rowwise().sum();
  MPI_Allreduce(MPI_IN_PLACE, s.data(), static_cast<int>(s.size()), MPI_DOUBLE, MPI_SUM, comm);
  return s;
}

struct Point {
  Vector x, y, v, dx, dy;
};
Point point(const FiniteSumQuadratic& p) {
  return {random_vector(p.nx(), 1), random_vector(p.ny(), 2), random_vector(p.ny(), 3),
          random_vector(p.nx(), 4), random_vector(p.ny(), 5)};
}

TEST(FiniteSumQuadratic, SampleHessianProductsMatchCentralDifferencesOfSampleGradients) {
  auto problem = small_instance(PETSC_COMM_WORLD);
  const Point at = point(*problem);
  const std::vector<long long> owned = all_owned(*problem, SampleRole::lower);
  const double h = 1e-4;
  // d/dt grad_y g_i(x, y + t v) = grad^2_yy g_i v; d/dt grad_y g_i(x + t w, y) = d_x(grad_y g_i) w,
  // whose inner product with v is that of w with the cross product d_x(grad_y g_i)' v.
  Matrix gy_plus, gy_minus, gyx_plus, gyx_minus;
  problem->sample_gradients(SampleRole::lower, at.x, at.y + h * at.v, owned, nullptr, &gy_plus);
  problem->sample_gradients(SampleRole::lower, at.x, at.y - h * at.v, owned, nullptr, &gy_minus);
  problem->sample_gradients(SampleRole::lower, at.x + h * at.dx, at.y, owned, nullptr, &gyx_plus);
  problem->sample_gradients(SampleRole::lower, at.x - h * at.dx, at.y, owned, nullptr, &gyx_minus);
  const Matrix hyy = problem->sample_lower_hess_yy(at.x, at.y, owned, at.v);
  const Matrix hxy = problem->sample_lower_hess_xy(at.x, at.y, owned, at.v).to_dense();
  if (owned.empty())
    return;
  EXPECT_LE(relative(hyy, (gy_plus - gy_minus) / (2 * h)), 1e-8);
  const Vector cross_fd = ((gyx_plus - gyx_minus) / (2 * h)).transpose() * at.v;
  EXPECT_LE(relative(hxy.transpose() * at.dx, cross_fd), 1e-8);
}

TEST(FiniteSumQuadratic, MeanOverAllSamplesIsTheFullBatchOracle) {
  auto problem = small_instance(PETSC_COMM_WORLD);
  const Point at = point(*problem);
  const MPI_Comm comm = problem->comm();
  OwnedVec x = problem->create_x(), y = problem->create_y(), v = problem->create_y();
  ReplicatedProblem::scatter(at.x, x);
  ReplicatedProblem::scatter(at.y, y);
  ReplicatedProblem::scatter(at.v, v);
  OwnedVec fx = problem->create_x(), fy = problem->create_y();
  for (const SampleRole role : {SampleRole::lower, SampleRole::upper}) {
    XColumns gx;
    Matrix gy;
    problem->sample_gradients(role, at.x, at.y, all_owned(*problem, role), &gx, &gy);
    if (role == SampleRole::lower)
      problem->lower_gradient(x, y, fx, fy);
    else
      problem->upper_gradient(x, y, fx, fy);
    const auto n = static_cast<double>(problem->samples(role));
    EXPECT_LE(relative(summed(comm, gx.to_dense()) / n, gather_to_all(fx)), 1e-12);
    EXPECT_LE(relative(summed(comm, gy) / n, gather_to_all(fy)), 1e-12);
  }
  const std::vector<long long> owned = all_owned(*problem, SampleRole::lower);
  const auto n = static_cast<double>(problem->samples(SampleRole::lower));
  problem->lower_hess_yy(x, y, v, fy);
  EXPECT_LE(relative(summed(comm, problem->sample_lower_hess_yy(at.x, at.y, owned, at.v)) / n,
                     gather_to_all(fy)),
            1e-12);
  problem->lower_hess_xy(x, y, v, fx);
  EXPECT_LE(
      relative(summed(comm, problem->sample_lower_hess_xy(at.x, at.y, owned, at.v).to_dense()) / n,
               gather_to_all(fx)),
      1e-12);
}

/// Every quantity of a batch of 40 lower and 25 upper samples (repeats included).
struct Batches {
  std::vector<long long> lower, upper;
};
Batches batches(const FiniteSumProblem& sums) {
  return {MinibatchSampler(3, SampleRole::lower, sums.samples(SampleRole::lower), 40).draw(7),
          MinibatchSampler(3, SampleRole::upper, sums.samples(SampleRole::upper), 25).draw(7)};
}
MinibatchMeans all_means(MinibatchOracles& oracles, const Point& at, const Batches& b) {
  return oracles.means(at.x, at.y,
                       {.lower = b.lower,
                        .upper = b.upper,
                        .lower_grad_x = true,
                        .lower_grad_y = true,
                        .hess_yy = true,
                        .hess_xy = true,
                        .upper_grad_x = true,
                        .upper_grad_y = true,
                        .v = &at.v});
}

TEST(MinibatchOracles, MeanOfABatchIsTheMeanOfItsColumnsGatheredOneByOne) {
  auto problem = small_instance(PETSC_COMM_WORLD);
  const Point at = point(*problem);
  MinibatchOracles oracles(*problem);
  const Batches b = batches(*problem);
  const MinibatchMeans means = all_means(oracles, at, b);
  // The explicit mean: each sample's column from its owner, shared by a sum over ranks, then
  // averaged in batch order.
  const auto explicit_mean = [&](SampleRole role, const std::vector<long long>& batch,
                                 Eigen::Index rows, auto column) {
    Matrix all = Matrix::Zero(rows, static_cast<Eigen::Index>(batch.size()));
    for (std::size_t k = 0; k < batch.size(); ++k)
      if (problem->local_samples(role).owns(batch[k]))
        all.col(static_cast<Eigen::Index>(k)) = column(std::span<const long long>(&batch[k], 1));
    MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM,
                  problem->comm());
    return Vector(all.rowwise().mean());
  };
  const auto gradient = [&](SampleRole role, bool x_part) {
    return [&, role, x_part](std::span<const long long> one) {
      XColumns gx;
      Matrix gy;
      problem->sample_gradients(role, at.x, at.y, one, &gx, &gy);
      return Vector(x_part ? gx.column(0) : gy.col(0));
    };
  };
  const Eigen::Index nx = problem->nx(), ny = problem->ny();
  EXPECT_LE(relative(means.lower_grad_x, explicit_mean(SampleRole::lower, b.lower, nx,
                                                       gradient(SampleRole::lower, true))),
            1e-13);
  EXPECT_LE(relative(means.lower_grad_y, explicit_mean(SampleRole::lower, b.lower, ny,
                                                       gradient(SampleRole::lower, false))),
            1e-13);
  EXPECT_LE(relative(means.upper_grad_x, explicit_mean(SampleRole::upper, b.upper, nx,
                                                       gradient(SampleRole::upper, true))),
            1e-13);
  EXPECT_LE(relative(means.upper_grad_y, explicit_mean(SampleRole::upper, b.upper, ny,
                                                       gradient(SampleRole::upper, false))),
            1e-13);
  EXPECT_LE(relative(means.hess_yy, explicit_mean(SampleRole::lower, b.lower, ny,
                                                  [&](std::span<const long long> one) {
                                                    return Vector(problem->sample_lower_hess_yy(
                                                        at.x, at.y, one, at.v));
                                                  })),
            1e-13);
  EXPECT_LE(relative(means.hess_xy,
                     explicit_mean(
                         SampleRole::lower, b.lower, nx,
                         [&](std::span<const long long> one) {
                           return problem->sample_lower_hess_xy(at.x, at.y, one, at.v).column(0);
                         })),
            1e-13);
  // One call per quantity, each touching the batch.
  const OracleCounts& counts = problem->oracle_counts();
  EXPECT_EQ(counts.calls(OracleKind::lower_gradient), 1);
  EXPECT_EQ(counts.calls(OracleKind::hessian_vector), 1);
  EXPECT_EQ(counts.calls(OracleKind::cross_derivative), 1);
  EXPECT_EQ(counts.calls(OracleKind::upper_gradient), 1);
  EXPECT_EQ(counts.samples(), 3 * 40 + 25);
}

TEST(MinibatchOracles, SameMeansOnOneRankAsOnAllRanks) {
  auto everywhere = small_instance(PETSC_COMM_WORLD);
  auto alone = small_instance(PETSC_COMM_SELF); // every sample on this rank: the 1-rank result
  const Point at = point(*everywhere);
  MinibatchOracles world(*everywhere), self(*alone);
  const Batches b = batches(*everywhere);
  const MinibatchMeans m = all_means(world, at, b), reference = all_means(self, at, b);
  EXPECT_LE(relative(m.lower_grad_x, reference.lower_grad_x), 1e-13);
  EXPECT_LE(relative(m.lower_grad_y, reference.lower_grad_y), 1e-13);
  EXPECT_LE(relative(m.hess_yy, reference.hess_yy), 1e-13);
  EXPECT_LE(relative(m.hess_xy, reference.hess_xy), 1e-13);
  EXPECT_LE(relative(m.upper_grad_x, reference.upper_grad_x), 1e-13);
  EXPECT_LE(relative(m.upper_grad_y, reference.upper_grad_y), 1e-13);
}

} // namespace
} // namespace bilevel::test
