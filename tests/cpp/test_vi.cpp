// VI-constrained instances and methods (docs/algorithms.md §3): the VI map's four products against
// central finite differences, the D-gap merit, ITD-VI's forward and reverse modes, and ITD-VI's
// hypergradient converging to kkt_vi's and the closed form at the rate Prop. 14 predicts.
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/methods/itd_vi.hpp"
#include "bilevel/problems/d_gap.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/sets/constraint_set.hpp"
#include "bilevel/solvers/natural_map.hpp"
#include "bilevel/solvers/natural_map_iteration.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <vector>

namespace bilevel::test {
namespace {

struct ViCase {
  const char* problem;
  const char* options;
};

void PrintTo(const ViCase& c, std::ostream* os) {
  *os << c.problem;
}

class ViDerivatives : public ::testing::TestWithParam<ViCase> {
protected:
  void SetUp() override {
    problem_ = make_problem(GetParam().problem, GetParam().options);
    x_ = problem_->create_x();
    y_ = problem_->create_y();
    dx_ = problem_->create_x();
    dy_ = problem_->create_y();
    fill_random(x_, 1, 0.5);
    fill_random(y_, 2, 0.5);
    fill_random(dx_, 3);
    fill_random(dy_, 4);
  }

  /// (F(x + h dx, y + h dy) - F(x - h dx, y - h dy)) / 2h.
  OwnedVec map_difference(Vec dx, Vec dy) {
    const CentralPoints p = central_points(x_, y_, dx, dy, kStep);
    OwnedVec plus = problem_->create_y(), minus = problem_->create_y();
    problem_->vi_map(p.x_plus, p.y_plus, plus);
    problem_->vi_map(p.x_minus, p.y_minus, minus);
    BB_PETSC(VecAXPY(plus, -1.0, minus));
    BB_PETSC(VecScale(plus, 1.0 / (2 * kStep)));
    return plus;
  }

  static constexpr double kStep = 1e-5;
  static constexpr double kTolerance = 1e-6;
  std::unique_ptr<Problem> problem_;
  OwnedVec x_, y_, dx_, dy_;
};

TEST_P(ViDerivatives, HasNoLowerObjective) {
  EXPECT_EQ(problem_->structure().form, LowerForm::vi);
  EXPECT_THROW((void)problem_->lower_value(x_, y_), InputError);
}

TEST_P(ViDerivatives, JacobianProductsMatchFiniteDifferences) {
  const OwnedVec fd_y = map_difference(nullptr, dy_), fd_x = map_difference(dx_, nullptr);
  OwnedVec jy = problem_->create_y(), jx = problem_->create_y();
  problem_->vi_jac_y(x_, y_, dy_, jy);
  problem_->vi_jac_x(x_, y_, dx_, jx);
  EXPECT_LE(relative_error(jy, fd_y), kTolerance) << "grad_y F v";
  EXPECT_LE(relative_error(jx, fd_x), kTolerance) << "grad_x F w";
  // The transposes through <J' v, d> = <v, J d> with J d from the differences; a random v.
  OwnedVec v = problem_->create_y(), jty = problem_->create_y(), jtx = problem_->create_x();
  fill_random(v, 5);
  problem_->vi_jac_y_transpose(x_, y_, v, jty);
  problem_->vi_jac_x_transpose(x_, y_, v, jtx);
  const double ref_y = dot(v, fd_y), ref_x = dot(v, fd_x);
  EXPECT_LE(std::abs(dot(jty, dy_) - ref_y), kTolerance * std::max(1.0, std::abs(ref_y)))
      << "grad_y F' v";
  EXPECT_LE(std::abs(dot(jtx, dx_) - ref_x), kTolerance * std::max(1.0, std::abs(ref_x)))
      << "grad_x F' v";
}

TEST_P(ViDerivatives, UpperGradientMatchesFiniteDifferences) {
  OwnedVec gx = problem_->create_x(), gy = problem_->create_y();
  problem_->upper_gradient(x_, y_, gx, gy);
  OwnedVec xp = copy_of(x_), xm = copy_of(x_), yp = copy_of(y_), ym = copy_of(y_);
  BB_PETSC(VecAXPY(xp, kStep, dx_));
  BB_PETSC(VecAXPY(xm, -kStep, dx_));
  BB_PETSC(VecAXPY(yp, kStep, dy_));
  BB_PETSC(VecAXPY(ym, -kStep, dy_));
  const double fd_x = (problem_->upper_value(xp, y_) - problem_->upper_value(xm, y_)) / (2 * kStep);
  const double fd_y = (problem_->upper_value(x_, yp) - problem_->upper_value(x_, ym)) / (2 * kStep);
  EXPECT_LE(std::abs(dot(gx, dx_) - fd_x), kTolerance * std::max(1.0, std::abs(fd_x)));
  EXPECT_LE(std::abs(dot(gy, dy_) - fd_y), kTolerance * std::max(1.0, std::abs(fd_y)));
}

/// The instances with a closed form (y*(x) and grad Phi).
class ViClosedForm : public ViDerivatives {};

TEST_P(ViClosedForm, DGapIsNonnegativeAndVanishesAtTheSolution) {
  ASSERT_TRUE(problem_->structure().exact_hypergradient);
  OwnedVec grad = problem_->create_x(), y_star = problem_->create_y();
  problem_->exact_hypergradient(x_, grad, y_star);
  const double at_solution = problem_->lower_residual(x_, y_star);
  EXPECT_GE(at_solution, -1e-14);
  EXPECT_LE(at_solution, 1e-12);
  // Away from it: phi_ab >= ((b - a)/2) ||y - z_b||^2 > 0 (paper eq. 6), at several points.
  for (std::uint64_t stream = 10; stream < 15; ++stream) {
    OwnedVec y = problem_->create_y(), F = problem_->create_y(), work = problem_->create_y();
    fill_random(y, stream, 0.7);
    problem_->vi_map(x_, y, F);
    const double gap = problem_->lower_residual(x_, y);
    const DGap dgap(0.5, 2.0);
    (void)DGap::regularized_gap(y, F, problem_->lower_set(), 2.0, work); // work = y - z_b
    PetscReal dist = 0;
    BB_PETSC(VecNorm(work, NORM_2, &dist));
    EXPECT_GT(gap, 0.0);
    EXPECT_GE(gap, 0.5 * (2.0 - 0.5) * dist * dist * (1 - 1e-12));
    EXPECT_NEAR(gap, dgap.evaluate(y, F, problem_->lower_set(), work), 1e-12 * (1 + gap));
  }
}

TEST_P(ViClosedForm, ExactHypergradientMatchesFiniteDifferencesOfPhi) {
  OwnedVec grad = problem_->create_x(), scratch = problem_->create_x();
  problem_->exact_hypergradient(x_, grad, nullptr);
  auto phi = [&](Vec x) {
    OwnedVec ys = problem_->create_y();
    problem_->exact_hypergradient(x, scratch, ys);
    return problem_->upper_value(x, ys);
  };
  OwnedVec xp = copy_of(x_), xm = copy_of(x_);
  BB_PETSC(VecAXPY(xp, kStep, dx_));
  BB_PETSC(VecAXPY(xm, -kStep, dx_));
  const double fd = (phi(xp) - phi(xm)) / (2 * kStep);
  EXPECT_LE(std::abs(dot(grad, dx_) - fd), kTolerance * std::max(1.0, std::abs(fd)));
}

const ViCase kAffine{"affine_vi_box", "-problem_ny 30 -problem_nx 5"};
const ViCase kObstacle{"obstacle_control", "-problem_grid 9"};
const ViCase kCournot{"cournot", "-problem_firms 50"};

std::string case_name(const ::testing::TestParamInfo<ViCase>& info) {
  return std::string(info.param.problem) + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(ViProblems, ViDerivatives, ::testing::Values(kAffine, kObstacle, kCournot),
                         case_name);
INSTANTIATE_TEST_SUITE_P(ViProblems, ViClosedForm, ::testing::Values(kAffine), case_name);

TEST(DGapMerit, RejectsParametersOutsideBGreaterThanAGreaterThanZero) {
  EXPECT_THROW(DGap(2.0, 1.0), InputError);
  EXPECT_THROW(DGap(1.0, 1.0), InputError);
  EXPECT_THROW(DGap(0.0, 1.0), InputError);
  EXPECT_THROW(DGap(-1.0, 1.0), InputError);
  EXPECT_NO_THROW(DGap(0.5, 1.0));
  EXPECT_THROW(make_problem("affine_vi_box", "-problem_dgap_a 3 -problem_dgap_b 2"), InputError);
}

/// One hypergradient of `algorithm` at the problem's initial x (fresh state: cold start).
OwnedVec hypergradient(Problem& problem, const std::string& algorithm, const std::string& options,
                       Record* record = nullptr) {
  ScopedOptions scoped(options);
  auto alg = algorithm_registry().at(algorithm).create(current_run());
  OwnedVec x = problem.create_x(), grad = problem.create_x();
  problem.initial_x(x);
  alg->setup(problem, x);
  Record local;
  alg->hypergradient(x, grad, record ? *record : local);
  return grad;
}

OwnedVec exact_at_initial_x(Problem& problem) {
  OwnedVec x = problem.create_x(), grad = problem.create_x();
  problem.initial_x(x);
  problem.exact_hypergradient(x, grad, nullptr);
  return grad;
}

TEST(ItdVi, ForwardAndReverseModesAgree) {
  auto problem = make_problem("affine_vi_box", "-problem_ny 40 -problem_nx 5");
  for (int t : {1, 7, 60}) {
    const std::string steps = " -alg_inner_iters " + std::to_string(t);
    const OwnedVec fwd = hypergradient(*problem, "itd_vi", "-alg_itd_mode forward" + steps);
    const OwnedVec rev = hypergradient(*problem, "itd_vi", "-alg_itd_mode reverse" + steps);
    EXPECT_LE(relative_error(fwd, rev), 1e-10) << "T = " << t;
  }
}

TEST(ItdVi, AutoModeChoosesReverseAboveTheThreshold) {
  auto problem = make_problem("affine_vi_box", "-problem_ny 20 -problem_nx 5");
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  for (auto [threshold, reverse] : {std::pair{4, true}, std::pair{5, false}}) {
    ScopedOptions scoped("-alg_itd_forward_max_nx " + std::to_string(threshold));
    ItdVi alg(ItdVi::Config::from_options());
    alg.setup(*problem, x);
    EXPECT_EQ(alg.reverse_mode(), reverse) << "threshold " << threshold;
  }
}

TEST(KktVi, MatchesTheClosedForm) {
  auto problem = make_problem("affine_vi_box", "-problem_ny 40 -problem_nx 5");
  Record record;
  const OwnedVec kkt = hypergradient(*problem, "kkt_vi", "", &record);
  EXPECT_LE(relative_error(kkt, exact_at_initial_x(*problem)), 1e-9);
  EXPECT_EQ(record.get("ksp_converged"), 1.0);
}

/// Spectral radius of the natural map's Jacobian D (I - grad_y F / b) at y*(x0): the asymptotic
/// rate of the inner iteration (and of its derivative recursion), which Lemma 12 bounds by q.
double iteration_rate(Problem& problem, double b) {
  OwnedVec x = problem.create_x(), g = problem.create_x(), y = problem.create_y(),
           u = problem.create_y(), next = problem.create_y(), e = problem.create_y(),
           col = problem.create_y();
  problem.initial_x(x);
  problem.exact_hypergradient(x, g, y);
  NaturalMap map(problem, y, b);
  map.step(x, y, u, next);
  const PetscInt n = problem.ny();
  Eigen::MatrixXd jac(n, n);
  for (PetscInt j = 0; j < n; ++j) {
    Eigen::VectorXd unit = Eigen::VectorXd::Zero(n);
    unit[j] = 1.0;
    scatter_owned(unit, e);
    map.jac_y(x, y, u, e, col);
    jac.col(j) = gather_to_all(col);
  }
  return Eigen::EigenSolver<Eigen::MatrixXd>(jac).eigenvalues().cwiseAbs().maxCoeff();
}

TEST(ItdVi, ErrorDecaysLikeTqToTheT) {
  auto problem = make_problem("affine_vi_box", "-problem_ny 30 -problem_nx 5");
  const OwnedVec exact = exact_at_initial_x(*problem);
  const OwnedVec kkt = hypergradient(*problem, "kkt_vi", "");
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  double b = 0, q = 0;
  {
    ScopedOptions scoped("");
    ItdVi alg(ItdVi::Config::from_options());
    alg.setup(*problem, x);
    b = alg.b();
    q = alg.contraction_bound();
  }
  const double rho = iteration_rate(*problem, b);
  std::vector<double> ts, logs;
  double last_error = 1.0, last_kkt_error = 1.0;
  // Reverse mode (equal to forward to 1e-10, tested above): forward mode's nx column updates per
  // step, each with a vector assembly, make this O(T^2) sweep slow on oversubscribed ranks.
  for (int t = 20; t <= 2000; t += 20) {
    const OwnedVec grad = hypergradient(
        *problem, "itd_vi", "-alg_itd_mode reverse -alg_inner_iters " + std::to_string(t));
    last_error = relative_error(grad, exact);
    last_kkt_error = relative_error(grad, kkt);
    if (last_error < 1e-11)
      break;
    // Prop. 14: error <= c1 q^{T-1} T + c2 q^T, so log(err) - log(T) is linear in T.
    if (last_error < 1e-3) {
      ts.push_back(t);
      logs.push_back(std::log(last_error) - std::log(t));
    }
  }
  ASSERT_GE(ts.size(), 4u) << "too few points in the fit window";
  const double slope = least_squares_slope(ts, logs);
  RecordProperty("slope", std::to_string(slope));
  std::printf("[itd_vi rate] b %.4g  q %.6f  log q %.5f  rho %.6f  log rho %.5f  fitted slope "
              "%.5f over T in [%g, %g]  final rel. error vs exact %.2e, vs kkt_vi %.2e\n",
              b, q, std::log(q), rho, std::log(rho), slope, ts.front(), ts.back(), last_error,
              last_kkt_error);
  // The bound: at least as fast as q (a faster observed rate is reported, not hidden).
  EXPECT_LE(slope, std::log(q) + 0.1 * std::abs(std::log(q)));
  // The measured rate: the spectral radius of the iteration at y*, within 15 %.
  EXPECT_NEAR(slope, std::log(rho), 0.15 * std::abs(std::log(rho)));
  EXPECT_LT(last_error, 1e-10);
  EXPECT_LT(last_kkt_error, 1e-9);
}

TEST(ObstacleControl, ItdViApproachesKktViAndTheDGapVanishes) {
  // No closed form here: kkt_vi (tight lower solve + GMRES on the free set) is the reference.
  // b = L makes the natural map projected Richardson on the SPD K (contraction 1 - mu/L).
  // At this grid the default load pushes the whole state onto psi (J = 0); -5 leaves 24 % free.
  auto problem = make_problem("obstacle_control", "-problem_grid 10 -problem_load -5");
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  const double lipschitz = problem->lower_curvature(x, nullptr, CurvatureNeed::lipschitz).lipschitz;
  const std::string b = "-alg_b " + std::to_string(lipschitz);
  ScopedOptions scoped(b);
  auto kkt = algorithm_registry().at("kkt_vi").create(current_run());
  kkt->setup(*problem, x);
  OwnedVec reference = problem->create_x();
  Record record;
  kkt->hypergradient(x, reference, record);
  const double gap = problem->lower_residual(x, kkt->lower_iterate());
  EXPECT_GE(gap, 0.0);
  EXPECT_LE(gap, 1e-9);
  const OwnedVec fwd =
      hypergradient(*problem, "itd_vi", b + " -alg_itd_mode forward -alg_inner_iters 40");
  const OwnedVec rev =
      hypergradient(*problem, "itd_vi", b + " -alg_itd_mode reverse -alg_inner_iters 40");
  EXPECT_LE(relative_error(fwd, rev), 1e-10);
  double previous = 1.0;
  for (int t : {3, 6, 12, 24, 48}) {
    const OwnedVec grad =
        hypergradient(*problem, "itd_vi", b + " -alg_inner_iters " + std::to_string(t));
    const double error = relative_error(grad, reference);
    std::printf("[obstacle itd_vi] T %d  relative error vs kkt_vi %.3e\n", t, error);
    EXPECT_LT(error, previous) << "T = " << t;
    previous = error;
  }
  EXPECT_LT(previous, 1e-6);
}

TEST(Cournot, KktViMatchesDifferencesOfPhiAndItdViApproachesIt) {
  // Taxes x around 5 so that firms sit on both bounds (idle and at capacity) and inside.
  auto problem = make_problem("cournot", "-problem_firms 200");
  OwnedVec x = problem->create_x(), dx = problem->create_x();
  fill_random(x, 7, 2.0, 5.0);
  fill_random(dx, 8);
  const double lipschitz = problem->lower_curvature(x, nullptr, CurvatureNeed::lipschitz).lipschitz;
  const std::string b = "-alg_b " + std::to_string(lipschitz);
  // Phi(x) = f(x, y*(x)) with y* from the natural map run to rounding (b = L: the Jacobian is
  // symmetric, so this is projected gradient descent on the game's potential).
  auto phi = [&](Vec at) {
    OwnedVec y = problem->create_y();
    NaturalMap map(*problem, y, lipschitz);
    NaturalMapIteration loop(map, y);
    (void)loop.run_until(at, y, 1e-15, 100000);
    return problem->upper_value(at, y);
  };
  auto gradient_at_x = [&](const std::string& algorithm, const std::string& options) {
    ScopedOptions scoped(options);
    auto alg = algorithm_registry().at(algorithm).create(current_run());
    alg->setup(*problem, x);
    OwnedVec grad = problem->create_x();
    Record record;
    alg->hypergradient(x, grad, record);
    return grad;
  };
  const OwnedVec kkt = gradient_at_x("kkt_vi", b);
  // Phi is piecewise quadratic: the central difference is exact while no firm changes bound, so
  // a large h avoids the cancellation in Phi (|f| ~ 1e5) without a truncation error.
  constexpr double h = 1e-3;
  OwnedVec xp = copy_of(x), xm = copy_of(x);
  BB_PETSC(VecAXPY(xp, h, dx));
  BB_PETSC(VecAXPY(xm, -h, dx));
  const double fd = (phi(xp) - phi(xm)) / (2 * h);
  EXPECT_NEAR(dot(kkt, dx), fd, 1e-7 * std::abs(fd));
  double previous = 1.0;
  for (int t : {20, 40, 80, 160}) {
    const OwnedVec grad = gradient_at_x("itd_vi", b + " -alg_inner_iters " + std::to_string(t));
    const double error = relative_error(grad, kkt);
    std::printf("[cournot itd_vi] T %d  relative error vs kkt_vi %.3e\n", t, error);
    EXPECT_LT(error, previous) << "T = " << t;
    previous = error;
  }
  EXPECT_LT(previous, 1e-8);
}

} // namespace
} // namespace bilevel::test
