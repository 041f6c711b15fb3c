// Every oracle of every problem against central finite differences of the oracle one order
// below it (values -> gradients -> Hessian products), and the closed-form hypergradients against
// finite differences of Phi(x) = f(x, y*(x)). Relative error <= 1e-6 throughout.
#include "test_support.hpp"

#include "bilevel/problems/problem.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

struct Case {
  const char* problem;
  const char* options;
  double x_offset; ///< centre of the random x (logreg's x is a log-regularisation)
  double x_scale;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.problem;
}

class Derivatives : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    const Case& c = GetParam();
    problem_ = make_problem(c.problem, c.options);
    x_ = problem_->create_x();
    y_ = problem_->create_y();
    dx_ = problem_->create_x();
    dy_ = problem_->create_y();
    fill_random(x_, 1, c.x_scale, c.x_offset);
    fill_random(y_, 2, 0.5);
    fill_random(dx_, 3);
    fill_random(dy_, 4);
  }

  /// Central difference of a scalar function along (dx, dy).
  template <class F> double directional(F&& value, Vec dx, Vec dy) {
    const CentralPoints p = central_points(x_, y_, dx, dy, kStep);
    return (value(p.x_plus.get(), p.y_plus.get()) - value(p.x_minus.get(), p.y_minus.get())) /
           (2 * kStep);
  }

  /// Central difference of a vector function along (dx, dy).
  template <class F> OwnedVec directional_vector(F&& value, Vec model, Vec dx, Vec dy) {
    const CentralPoints p = central_points(x_, y_, dx, dy, kStep);
    OwnedVec plus = duplicate(model), minus = duplicate(model);
    value(p.x_plus.get(), p.y_plus.get(), plus.get());
    value(p.x_minus.get(), p.y_minus.get(), minus.get());
    BB_PETSC(VecAXPY(plus, -1.0, minus));
    BB_PETSC(VecScale(plus, 1.0 / (2 * kStep)));
    return plus;
  }

  static void expect_close(double analytic, double numeric, const char* what) {
    EXPECT_LE(std::abs(analytic - numeric), kTolerance * std::max(1.0, std::abs(numeric)))
        << what << ": analytic " << analytic << " vs finite difference " << numeric;
  }

  static constexpr double kStep = 1e-5;
  static constexpr double kTolerance = 1e-6;
  std::unique_ptr<Problem> problem_;
  OwnedVec x_, y_, dx_, dy_;
};

TEST_P(Derivatives, UpperGradient) {
  OwnedVec gx = problem_->create_x(), gy = problem_->create_y();
  problem_->upper_gradient(x_, y_, gx, gy);
  auto f = [&](Vec x, Vec y) { return problem_->upper_value(x, y); };
  expect_close(dot(gx, dx_), directional(f, dx_, nullptr), "grad_x f");
  expect_close(dot(gy, dy_), directional(f, nullptr, dy_), "grad_y f");
}

TEST_P(Derivatives, LowerGradient) {
  OwnedVec gx = problem_->create_x(), gy = problem_->create_y();
  problem_->lower_gradient(x_, y_, gx, gy);
  auto g = [&](Vec x, Vec y) { return problem_->lower_value(x, y); };
  expect_close(dot(gx, dx_), directional(g, dx_, nullptr), "grad_x g");
  expect_close(dot(gy, dy_), directional(g, nullptr, dy_), "grad_y g");
}

TEST_P(Derivatives, LowerHessianProducts) {
  auto grad_y = [&](Vec x, Vec y, Vec out) { problem_->lower_gradient(x, y, nullptr, out); };
  // grad^2_yy g v against the change of grad_y g along v in y.
  OwnedVec hv = problem_->create_y();
  problem_->lower_hess_yy(x_, y_, dy_, hv);
  OwnedVec fd_yy = directional_vector(grad_y, y_, nullptr, dy_);
  EXPECT_LE(relative_error(hv, fd_yy), kTolerance) << "grad^2_yy g v";
  // grad^2_yx g w against the change of grad_y g along w in x.
  OwnedVec hw = problem_->create_y();
  problem_->lower_hess_yx(x_, y_, dx_, hw);
  OwnedVec fd_yx = directional_vector(grad_y, y_, dx_, nullptr);
  EXPECT_LE(relative_error(hw, fd_yx), kTolerance) << "grad^2_yx g w";
  // grad^2_xy g v is its transpose: <grad^2_xy g v, w> = <v, change of grad_y g along w>.
  OwnedVec hxy = problem_->create_x();
  problem_->lower_hess_xy(x_, y_, dy_, hxy);
  expect_close(dot(hxy, dx_), dot(dy_, fd_yx), "grad^2_xy g v");
}

/// The problems with a closed-form hypergradient.
class ExactHypergradient : public Derivatives {};

TEST_P(ExactHypergradient, MatchesFiniteDifferencesOfPhi) {
  ASSERT_TRUE(problem_->structure().exact_hypergradient);
  OwnedVec grad = problem_->create_x(), y_star = problem_->create_y(),
           scratch = problem_->create_x();
  problem_->exact_hypergradient(x_, grad, y_star);
  // y* solves the lower level: grad_y g(x, y*) = 0.
  EXPECT_LE(problem_->lower_residual(x_, y_star), 1e-9);
  auto phi = [&](Vec x, Vec) {
    OwnedVec ys = problem_->create_y();
    problem_->exact_hypergradient(x, scratch, ys);
    return problem_->upper_value(x, ys);
  };
  expect_close(dot(grad, dx_), directional(phi, dx_, nullptr), "grad Phi");
}

const Case kQuadratic{"quadratic", "-problem_ny 60 -problem_nx 7 -problem_cond 20", 0, 1};
const Case kToySc{"toy_sc", "", 0, 1};
const Case kFiniteSumQuadratic{"finite_sum_quadratic",
                               "-problem_n_inner 300 -problem_n_outer 70 -problem_dim_inner 9 "
                               "-problem_dim_outer 4",
                               0, 1};
const Case kCoreset{"coreset", "", 0, 1};
// The IGFM paper's hard instances (phi in closed form; g = 0 for hard_nonsmooth must give zeros).
const Case kHardNonsmooth{"hard_nonsmooth", "", 0, 1};
const Case kHardLiu{"hard_liu", "", 0, 1};
const Case kHardDiscontinuous{"hard_discontinuous", "", 0, 1};
// The FFO-layer paper: constrained QP lower level (the closed form goes through a polyhedral
// projection).
const Case kQpBilevel{"qp_bilevel", "-problem_nx 4 -problem_ny 12 -problem_ineq 15", 0, 1};
// Example 5.4 on the real (diabetes) and the synthetic data; phi in closed form on both.
const Case kAdversarialDiabetes{"adversarial_ls", "-seed 3", 0, 1};
const Case kAdversarialSynthetic{
    "adversarial_ls", "-problem_data synthetic -problem_n 37 -problem_d 5 -problem_lambda 0.7", 0,
    1};

std::string case_name(const ::testing::TestParamInfo<Case>& param_info) {
  return std::string(param_info.param.problem) + std::to_string(param_info.index);
}

INSTANTIATE_TEST_SUITE_P(WithClosedForm, ExactHypergradient,
                         ::testing::Values(kQuadratic, kToySc, kCoreset, kHardNonsmooth, kHardLiu,
                                           kHardDiscontinuous, kQpBilevel, kAdversarialDiabetes,
                                           kAdversarialSynthetic, kFiniteSumQuadratic),
                         case_name);

INSTANTIATE_TEST_SUITE_P(
    AllProblems, Derivatives,
    ::testing::Values(
        kQuadratic, kToySc, kCoreset, kHardNonsmooth, kHardLiu, kHardDiscontinuous, kQpBilevel,
        kAdversarialDiabetes, kAdversarialSynthetic,
        // cos(r) oscillates fast in (x, y) where r = 1/2 ||Hy - x||^2 is large:
        // small x keeps r moderate so differences of step 1e-5 resolve it.
        // The FFO-layer paper's distributed box-QP lower level (H, B as PETSc Mats, x in B's
        // columns).
        Case{"box_qp_bilevel", "-problem_ny 50 -problem_nx 5", 0, 1},
        Case{"toy_nonconvex", "", 0, 0.1},
        Case{"logreg_hyper",
             "-problem_train 120 -problem_val 80 -problem_test 40 "
             "-problem_corruption 0.3",
             -3, 0.5},
        Case{"logreg_hyper",
             "-problem_train 120 -problem_val 80 -problem_test 40 -problem_reg scalar", -3, 0.5},
        Case{"hyperclean", "-problem_train 60 -problem_val 40 -problem_test 20", 0, 1},
        Case{"hyperclean", "-problem_train 60 -problem_val 40 -problem_test 20 -problem_pca 5", 0,
             1},
        kFiniteSumQuadratic),
    case_name);

} // namespace
} // namespace bilevel::test
