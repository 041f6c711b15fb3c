// Constraint sets: every projection satisfies its optimality condition and lands in the set; the
// projection Jacobian matches central finite differences away from kinks; the simplex threshold
// matches an independent sort-based computation on the gathered vector.
#include "test_support.hpp"

#include "bilevel/sets/ball.hpp"
#include "bilevel/sets/box.hpp"
#include "bilevel/sets/simplex.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace bilevel::test {
namespace {

constexpr PetscInt kSize = 101;

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
                      SetCase{"simplex", [] { return std::make_unique<Simplex>(3.0); }, 1.0}),
    [](const ::testing::TestParamInfo<SetCase>& param_info) { return param_info.param.name; });

TEST(SimplexSet, ThresholdMatchesSortedReference) {
  const Simplex simplex(3.0);
  OwnedVec u = make_vec();
  fill_random(u, 11);
  // Reference (Held et al. / Duchi et al.): sort descending, tau = (cumsum_k - total)/k at the
  // largest k with u_(k) > tau.
  OwnedScatter scatter;
  OwnedVec all;
  BB_PETSC(VecScatterCreateToAll(u, scatter.receive(), all.receive()));
  BB_PETSC(VecScatterBegin(scatter, u, all, INSERT_VALUES, SCATTER_FORWARD));
  BB_PETSC(VecScatterEnd(scatter, u, all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* a = nullptr;
  BB_PETSC(VecGetArrayRead(all, &a));
  std::vector<double> sorted(a, a + kSize);
  BB_PETSC(VecRestoreArrayRead(all, &a));
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

} // namespace
} // namespace bilevel::test
