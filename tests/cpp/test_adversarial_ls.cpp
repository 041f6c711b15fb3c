// The IGFM paper's adversarial_ls (Example 5.4) beyond its finite-difference checks: the diabetes
// data as loaded and standardised against numpy on the same files, M's structure (half zero, the
// rest evenly spaced in [sigma_min, sigma_max]), and the closed-form y* as the optimistic
// solution of the lower level. Run at 1, 2 and 4 ranks, the fixed references also check that
// the data do not depend on the rank layout.
#include "test_support.hpp"

#include "bilevel/core/record.hpp"
#include "bilevel/core/replicated_vec.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

/// phi at the ramp x of the synthetic instance below, measured at 1 rank.
constexpr double kSyntheticPhi = 0.075550238835127528;

/// x_j = -1 + 2j/(d - 1).
void set_ramp(Vec x) {
  const Eigen::Index d = gather_to_all(x).size();
  Eigen::VectorXd values = Eigen::VectorXd::LinSpaced(d, -1.0, 1.0);
  scatter_owned(values, x);
}

TEST(AdversarialLs, DiabetesMatchesNumpyAndMHasThePapersStructure) {
  auto problem = make_problem("adversarial_ls", "-seed 2");
  ASSERT_EQ(problem->nx(), 10);
  ASSERT_EQ(problem->ny(), 442);
  OwnedVec x = problem->create_x(), y = problem->create_y();
  set_ramp(x);
  // numpy: columns of diabetes_data_raw and diabetes_target z-scored (population std),
  // mean((A x - b)^2) at the ramp x.
  Record metrics;
  problem->report_metrics(x, y, metrics);
  EXPECT_NEAR(metrics.get("mse"), 3.3875121779148305, 1e-12);
  problem->initial_y(x, y); // y = b, so f(x, b) = mse / 2
  EXPECT_NEAR(problem->upper_value(x, y), 3.3875121779148305 / 2, 1e-12);

  // grad^2_yy g 1 = ((1 + lambda)/n) m: 221 zeros and 221 values evenly spaced in [1e-9, 1].
  OwnedVec ones = problem->create_y(), hm = problem->create_y();
  BB_PETSC(VecSet(ones, 1.0));
  problem->lower_hess_yy(x, y, ones, hm);
  Eigen::VectorXd m = gather_to_all(hm) * (442.0 / 2.0);
  std::sort(m.data(), m.data() + m.size());
  for (int k = 0; k < 221; ++k)
    EXPECT_EQ(m[k], 0.0) << k;
  for (int k = 0; k < 221; ++k)
    EXPECT_NEAR(m[221 + k], 1e-9 + (1.0 - 1e-9) * k / 220.0, 1e-14) << k;
}

TEST(AdversarialLs, ClosedFormIsTheOptimisticLowerSolution) {
  auto problem = make_problem("adversarial_ls", "-problem_data synthetic -problem_n 40 "
                                                "-problem_d 4 -problem_sigma_min 0.1 -seed 5");
  OwnedVec x = problem->create_x(), y = problem->create_y(), grad = problem->create_x();
  OwnedVec y_star = problem->create_y();
  set_ramp(x);
  problem->exact_hypergradient(x, grad, y_star);
  Record metrics;
  problem->report_metrics(x, y_star, metrics);
  const double phi = metrics.get("phi");
  EXPECT_NEAR(problem->upper_value(x, y_star), phi, 1e-14);

  // Every coordinate of y* is either pinned by M (moving it raises g) or free (g unchanged,
  // f rises): y* minimises g, and f over the minimisers.
  const double g_star = problem->lower_value(x, y_star);
  OwnedVec ones = problem->create_y(), hm = problem->create_y();
  BB_PETSC(VecSet(ones, 1.0));
  problem->lower_hess_yy(x, y_star, ones, hm);
  const Eigen::VectorXd m = gather_to_all(hm);
  int free = 0;
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    for (const double step : {-0.1, 0.1}) {
      Eigen::VectorXd moved = gather_to_all(y_star);
      moved[i] += step;
      scatter_owned(moved, y);
      if (m[i] > 0) {
        EXPECT_GT(problem->lower_value(x, y), g_star + 1e-6) << i;
      } else {
        EXPECT_NEAR(problem->lower_value(x, y), g_star, 1e-14) << i;
        EXPECT_GT(problem->upper_value(x, y), phi + 1e-6) << i;
      }
    }
    free += m[i] > 0 ? 0 : 1;
  }
  EXPECT_EQ(free, 20);
  // The same instance at any rank count (value first measured at 1 rank).
  EXPECT_NEAR(phi, kSyntheticPhi, 1e-12);
}

} // namespace
} // namespace bilevel::test
