// Constraint sets: every projection satisfies its optimality condition and lands in the set; the
// projection Jacobian matches central finite differences away from kinks; the simplex threshold
// matches an independent sort-based computation on the gathered vector.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/sets/ball.hpp"
#include "bilevel/sets/box.hpp"
#include "bilevel/sets/lower_bound.hpp"
#include "bilevel/sets/polyhedron.hpp"
#include "bilevel/sets/simplex.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

namespace bilevel::test {
namespace {

constexpr PetscInt kSize = 101;

/// A random polyhedron in R^kSize that contains the origin's neighbourhood: 40 inequalities
/// with h > 0, and 3 equalities through 0.
std::unique_ptr<Polyhedron> random_polyhedron(Eigen::Index inequalities = 40) {
  const CounterRng rng(5, 1);
  Eigen::MatrixXd G(inequalities, kSize), A(3, kSize);
  Eigen::VectorXd h(inequalities);
  std::uint64_t k = 0;
  for (Eigen::Index i = 0; i < G.rows(); ++i) {
    for (Eigen::Index j = 0; j < kSize; ++j)
      G(i, j) = rng.normal(k++);
    h[i] = 1.0 + rng.uniform(k++);
  }
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < kSize; ++j)
      A(i, j) = rng.normal(k++);
  return std::make_unique<Polyhedron>(G, h, A, Eigen::VectorXd::Zero(3));
}

OwnedVec make_vec() {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, kSize, v.receive()));
  return v;
}

struct SetCase {
  const char* name;
  std::function<std::unique_ptr<ConstraintSet>()> make;
  double u_scale; ///< spread of the random points: some coordinates active, some free
};

class Sets : public ::testing::TestWithParam<SetCase> {};

TEST_P(Sets, ProjectionIsOptimal) {
  const auto set = GetParam().make();
  OwnedVec u = make_vec(), p = make_vec(), z = make_vec(), again = make_vec();
  fill_random(u, 7, GetParam().u_scale);
  set->project(u, p);
  // Idempotent: P(P(u)) = P(u), i.e. P(u) lies in the set.
  set->project(p, again);
  EXPECT_LE(relative_error(again, p), 1e-12);
  // Variational inequality of the projection: <u - P(u), z - P(u)> <= 0 for every z in the set.
  for (std::uint64_t trial = 0; trial < 5; ++trial) {
    fill_random(z, 100 + trial, GetParam().u_scale);
    set->project(z, z);
    OwnedVec a = copy_of(u), b = copy_of(z);
    BB_PETSC(VecAXPY(a, -1.0, p));
    BB_PETSC(VecAXPY(b, -1.0, p));
    EXPECT_LE(dot(a, b), 1e-12);
  }
}

TEST_P(Sets, JacobianMatchesFiniteDifferences) {
  const auto set = GetParam().make();
  OwnedVec u = make_vec(), v = make_vec(), jv = make_vec();
  fill_random(u, 8, GetParam().u_scale);
  fill_random(v, 9);
  set->project_jacobian(u, v, jv);
  const double h = 1e-7; // far below the distance of any random u to a kink
  OwnedVec up = copy_of(u), um = copy_of(u);
  BB_PETSC(VecAXPY(up, h, v));
  BB_PETSC(VecAXPY(um, -h, v));
  set->project(up, up);
  set->project(um, um);
  BB_PETSC(VecAXPY(up, -1.0, um));
  BB_PETSC(VecScale(up, 1.0 / (2 * h)));
  EXPECT_LE(relative_error(jv, up), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    AllSets, Sets,
    ::testing::Values(SetCase{"box", [] { return std::make_unique<Box>(-0.5, 0.7); }, 1.0},
                      SetCase{"orthant", [] { return std::make_unique<Box>(0.0, PETSC_INFINITY); },
                              1.0},
                      SetCase{"ball_outside", [] { return std::make_unique<Ball>(2.0); }, 1.0},
                      SetCase{"ball_inside", [] { return std::make_unique<Ball>(50.0); }, 1.0},
                      SetCase{"simplex", [] { return std::make_unique<Simplex>(3.0); }, 1.0},
                      SetCase{"polyhedron", [] { return random_polyhedron(); }, 1.0}),
    [](const ::testing::TestParamInfo<SetCase>& param_info) { return param_info.param.name; });

TEST(PolyhedronSet, ProjectionSatisfiesKkt) {
  // KKT of min 1/2||y - u||^2 s.t. Gy <= h, Ay = b: feasibility, lambda >= 0, complementarity,
  // and stationarity y - u + G'lambda + A'nu = 0, all to round-off; and some rows active.
  const auto set = random_polyhedron(60);
  const CounterRng rng(6, 1);
  Eigen::VectorXd u(kSize);
  for (Eigen::Index j = 0; j < kSize; ++j)
    u[j] = 3.0 * rng.normal(static_cast<std::uint64_t>(j));
  const auto p = set->project(u);
  const CounterRng data(5, 1);
  Eigen::MatrixXd G(60, kSize), A(3, kSize);
  Eigen::VectorXd h(60);
  std::uint64_t k = 0;
  for (Eigen::Index i = 0; i < 60; ++i) {
    for (Eigen::Index j = 0; j < kSize; ++j)
      G(i, j) = data.normal(k++);
    h[i] = 1.0 + data.uniform(k++);
  }
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < kSize; ++j)
      A(i, j) = data.normal(k++);
  EXPECT_GE(p.active.size(), 2u);
  EXPECT_LE((G * p.y - h).maxCoeff(), 1e-10);
  EXPECT_LE((A * p.y).norm(), 1e-10);
  EXPECT_GE(p.inequality_multipliers.minCoeff(), 0.0);
  EXPECT_LE(p.inequality_multipliers.cwiseProduct(G * p.y - h).cwiseAbs().maxCoeff(), 1e-10);
  const Eigen::VectorXd stationarity =
      p.y - u + G.transpose() * p.inequality_multipliers + A.transpose() * p.equality_multipliers;
  EXPECT_LE(stationarity.norm(), 1e-10 * u.norm());
}

TEST(PolyhedronSet, EmptySetIsReported) {
  // y_0 <= -1 and -y_0 <= -1 (y_0 >= 1): no point.
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(2, 3);
  G(0, 0) = 1;
  G(1, 0) = -1;
  const Polyhedron set(G, Eigen::Vector2d(-1, -1), Eigen::MatrixXd(0, 3), Eigen::VectorXd(0));
  EXPECT_THROW(set.project(Eigen::Vector3d(0.5, 0, 0)), InputError);
}

TEST(SimplexSet, ThresholdMatchesSortedReference) {
  const Simplex simplex(3.0);
  OwnedVec u = make_vec();
  fill_random(u, 11);
  // Reference (Held et al. / Duchi et al.): sort descending, tau = (cumsum_k - total)/k at the
  // largest k with u_(k) > tau.
  const Eigen::VectorXd all = gather_to_all(u);
  std::vector<double> sorted(all.data(), all.data() + all.size());
  std::sort(sorted.rbegin(), sorted.rend());
  double cumulative = 0, tau = 0;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    cumulative += sorted[k];
    const double candidate = (cumulative - 3.0) / static_cast<double>(k + 1);
    if (sorted[k] > candidate)
      tau = candidate;
  }
  EXPECT_NEAR(simplex.threshold(u), tau, 1e-13);
}

TEST(BoundSets, HandTheirBoundsToSnesVi) {
  OwnedVec psi, lower, upper;
  BB_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, kSize, psi.receive()));
  fill_random(psi, 9);
  lower = duplicate(psi);
  upper = duplicate(psi);
  PetscReal lo = 0, hi = 0;
  ASSERT_TRUE(Box(-1.0, 2.0).bounds(lower, upper));
  BB_PETSC(VecMin(lower, nullptr, &lo));
  BB_PETSC(VecMax(lower, nullptr, &hi));
  EXPECT_EQ(lo, -1.0);
  EXPECT_EQ(hi, -1.0);
  BB_PETSC(VecMin(upper, nullptr, &lo));
  BB_PETSC(VecMax(upper, nullptr, &hi));
  EXPECT_EQ(lo, 2.0);
  EXPECT_EQ(hi, 2.0);
  // The orthant's missing upper bound is PETSc's infinity, which SNESVI treats as none.
  ASSERT_TRUE(Box(0.0, std::numeric_limits<double>::infinity()).bounds(lower, upper));
  BB_PETSC(VecMax(upper, nullptr, &hi));
  EXPECT_EQ(hi, PETSC_INFINITY);
  ASSERT_TRUE(LowerBound(psi).bounds(lower, upper));
  EXPECT_EQ(relative_error(lower, psi), 0.0);
  BB_PETSC(VecMin(upper, nullptr, &lo));
  EXPECT_EQ(lo, PETSC_INFINITY);
  EXPECT_FALSE(Ball(1.0).bounds(lower, upper));
}

} // namespace
} // namespace bilevel::test
