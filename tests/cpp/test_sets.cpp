// Constraint sets: projections satisfy their optimality conditions; the projection Jacobian
// matches finite differences away from kinks.
#include "test_support.hpp"

#include "bilevel/sets/box.hpp"

#include <gtest/gtest.h>

namespace bilevel::test {
namespace {

OwnedVec make_vec(PetscInt n) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n, v.receive()));
  return v;
}

TEST(BoxSet, ProjectionIsOptimal) {
  const Box box(-0.5, 0.7);
  OwnedVec u = make_vec(101), p = make_vec(101), z = make_vec(101);
  fill_random(u, 7);
  box.project(u, p);
  // Variational inequality of the projection: <u - P(u), z - P(u)> <= 0 for every z in the box.
  for (std::uint64_t trial = 0; trial < 5; ++trial) {
    fill_random(z, 100 + trial, 0.3);
    box.project(z, z);
    OwnedVec a = copy_of(u), b = copy_of(z);
    BB_PETSC(VecAXPY(a, -1.0, p));
    BB_PETSC(VecAXPY(b, -1.0, p));
    EXPECT_LE(dot(a, b), 1e-14);
  }
}

TEST(BoxSet, JacobianMatchesFiniteDifferences) {
  const Box box(-0.5, 0.7);
  OwnedVec u = make_vec(101), v = make_vec(101), jv = make_vec(101);
  fill_random(u, 8);
  fill_random(v, 9);
  box.project_jacobian(u, v, jv);
  const double h = 1e-7; // far below the distance of any random u_i to a bound
  OwnedVec up = copy_of(u), um = copy_of(u);
  BB_PETSC(VecAXPY(up, h, v));
  BB_PETSC(VecAXPY(um, -h, v));
  box.project(up, up);
  box.project(um, um);
  BB_PETSC(VecAXPY(up, -1.0, um));
  BB_PETSC(VecScale(up, 1.0 / (2 * h)));
  EXPECT_LE(relative_error(jv, up), 1e-6);
}

} // namespace
} // namespace bilevel::test
