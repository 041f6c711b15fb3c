// PGD-QP (the PGD-QP paper, docs/algorithms.md §4): grad h from two Hessian-vector products against
// central finite differences of h on every instance; the closed-form multiplier (eq. 8c) against a
// brute-force maximisation of the QP's dual; and the QP constraint grad h' D + alpha rho <= 0 (with
// equality when lambda > 0) along 200 iterates, D measured from the iterates themselves.
#include "test_support.hpp"

#include "bilevel/methods/algorithm.hpp"
#include "bilevel/solvers/joint_vector.hpp"
#include "bilevel/solvers/lower_stationarity.hpp"
#include "bilevel/solvers/single_constraint_qp.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

struct Instance {
  const char* problem;
  const char* options;
  double scale; ///< of the random (x, y): keeps cos(r) of toy_nonconvex in a resolvable range
};

void PrintTo(const Instance& c, std::ostream* os) {
  *os << c.problem;
}

class GradH : public ::testing::TestWithParam<Instance> {};

TEST_P(GradH, MatchesCentralDifferencesOfH) {
  const Instance& c = GetParam();
  auto problem = make_problem(c.problem, c.options);
  OwnedVec x = problem->create_x(), y = problem->create_y();
  fill_random(x, 11, c.scale);
  fill_random(y, 12, c.scale);
  LowerStationarity stationarity(y);
  OwnedVec grad_h = create_joint(x, y);
  stationarity.evaluate(*problem, x, y, grad_h);
  OwnedVec xp = copy_of(x), xm = copy_of(x), yp = copy_of(y), ym = copy_of(y);
  // Directions moving x only, y only, and both: a swapped or mis-scaled block fails one of them.
  for (int which = 0; which < 3; ++which) {
    OwnedVec d = create_joint(x, y);
    fill_random(x_part(d), 20 + which);
    fill_random(y_part(d), 30 + which);
    if (which == 0)
      BB_PETSC(VecSet(y_part(d), 0.0));
    if (which == 1)
      BB_PETSC(VecSet(x_part(d), 0.0));
    const double t = 1e-6;
    BB_PETSC(VecWAXPY(xp, t, x_part(d), x));
    BB_PETSC(VecWAXPY(xm, -t, x_part(d), x));
    BB_PETSC(VecWAXPY(yp, t, y_part(d), y));
    BB_PETSC(VecWAXPY(ym, -t, y_part(d), y));
    const double numeric = (stationarity.evaluate(*problem, xp, yp, nullptr) -
                            stationarity.evaluate(*problem, xm, ym, nullptr)) /
                           (2 * t);
    const double analytic = dot(grad_h, d);
    EXPECT_LE(std::abs(analytic - numeric), 1e-6 * std::max(1.0, std::abs(numeric)))
        << c.problem << " direction " << which << ": grad h'd " << analytic
        << " vs finite difference " << numeric;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllInstances, GradH,
    ::testing::Values(Instance{"toy_sc", "", 1.0}, Instance{"coreset", "", 1.0},
                      Instance{"toy_nonconvex", "", 0.1},
                      Instance{"quadratic", "-problem_ny 60 -problem_nx 7 -problem_cond 20", 1.0}),
    [](const ::testing::TestParamInfo<Instance>& param_info) {
      return std::string(param_info.param.problem);
    });

/// z_k, grad f(z_k), grad h(z_k) and h(z_k), computed here, independently of the algorithm.
struct QpData {
  OwnedVec grad_f, grad_h;
  double h;
};

QpData qp_data(Problem& problem, Vec x, Vec y) {
  QpData d{create_joint(x, y), create_joint(x, y), 0.0};
  problem.upper_gradient(x, y, x_part(d.grad_f), y_part(d.grad_f));
  LowerStationarity stationarity(y);
  d.h = stationarity.evaluate(problem, x, y, d.grad_h);
  return d;
}

/// The QP's dual function q(lambda) = min_D 1/2 ||D + grad f||^2 + lambda (grad h'D + b), evaluated
/// from its definition at the minimiser D = -grad f - lambda grad h (built as a vector), and
/// maximised over lambda >= 0 by golden-section search (q is concave).
double brute_force_multiplier(const QpData& d, double b) {
  OwnedVec delta = duplicate(d.grad_f), shifted = duplicate(d.grad_f);
  auto dual = [&](double lambda) {
    BB_PETSC(VecAXPBYPCZ(delta, -1.0, -lambda, 0.0, d.grad_f, d.grad_h));
    BB_PETSC(VecWAXPY(shifted, 1.0, delta, d.grad_f));
    const double objective = 0.5 * dot(shifted, shifted);
    return objective + lambda * (dot(d.grad_h, delta) + b);
  };
  const double scale = std::abs(b) + std::abs(dot(d.grad_h, d.grad_f));
  double lo = 0.0, hi = 10.0 * scale / std::max(dot(d.grad_h, d.grad_h), 1e-300) + 1.0;
  const double phi = 0.5 * (std::sqrt(5.0) - 1.0);
  double a = hi - phi * (hi - lo), c = lo + phi * (hi - lo), fa = dual(a), fc = dual(c);
  for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; ++it) {
    if (fa < fc) {
      lo = a;
      a = c;
      fa = fc;
      c = lo + phi * (hi - lo);
      fc = dual(c);
    } else {
      hi = c;
      c = a;
      fc = fa;
      a = hi - phi * (hi - lo);
      fa = dual(a);
    }
  }
  const double inside = 0.5 * (lo + hi);
  return dual(0.0) >= dual(inside) ? 0.0 : inside;
}

/// Runs `steps` PGD-QP iterations on toy_sc and hands each step's data to `check`.
template <class Check> void run_pgd_qp(const std::string& options, int steps, Check&& check) {
  auto problem = make_problem("toy_sc", "");
  ScopedOptions scoped("-outer_iters " + std::to_string(steps) + " " + options);
  auto alg = algorithm_registry().at("pgd_qp").create(current_run());
  OwnedVec x = problem->create_x();
  problem->initial_x(x);
  alg->setup(*problem, x);
  OwnedVec z_before = create_joint(x, alg->lower_iterate()),
           delta = create_joint(x, alg->lower_iterate());
  for (int k = 0; k < steps; ++k) {
    BB_PETSC(VecCopy(x, x_part(z_before)));
    BB_PETSC(VecCopy(alg->lower_iterate(), y_part(z_before)));
    const QpData d = qp_data(*problem, x, alg->lower_iterate());
    Record record;
    alg->step(x, record);
    // D_k = (z_{k+1} - z_k) / gamma, from the iterates rather than the algorithm's own vectors.
    BB_PETSC(VecWAXPY(x_part(delta), -1.0, x_part(z_before), x));
    BB_PETSC(VecWAXPY(y_part(delta), -1.0, y_part(z_before), alg->lower_iterate()));
    BB_PETSC(VecScale(delta, 1.0 / record.get("gamma")));
    check(k, d, record, static_cast<Vec>(delta));
  }
}

double rho_of(const std::string& rho, const QpData& d, double h0) {
  const double grad_h_sq = dot(d.grad_h, d.grad_h);
  return rho == "grad2" ? grad_h_sq : std::sqrt(grad_h_sq * h0);
}

class ClosedFormQp : public ::testing::TestWithParam<const char*> {};

TEST_P(ClosedFormQp, MultiplierMaximisesTheDual) {
  const std::string rho = GetParam();
  int active = 0;
  run_pgd_qp("-alg_rho " + rho, 40, [&](int k, const QpData& d, const Record& r, Vec delta) {
    const double b = r.get("alpha") * rho_of(rho, d, r.get("h0"));
    const double brute = brute_force_multiplier(d, b);
    const double lambda = r.get("lambda");
    EXPECT_NEAR(lambda, brute, 1e-7 * std::max(1.0, brute)) << "step " << k;
    // The step taken is the primal solution for that multiplier, D = -grad f - lambda grad h.
    OwnedVec expected = duplicate(delta);
    qp_direction(d.grad_f, d.grad_h, brute, expected);
    EXPECT_LE(relative_error(delta, expected), 1e-6) << "step " << k;
    active += lambda > 0 ? 1 : 0;
  });
  // Otherwise the comparison above never exercised the constrained branch.
  EXPECT_GT(active, 0);
}

TEST_P(ClosedFormQp, IteratesSatisfyTheQpConstraint) {
  const std::string rho = GetParam();
  int active = 0;
  run_pgd_qp("-alg_rho " + rho, 200, [&](int k, const QpData& d, const Record& r, Vec delta) {
    const double b = r.get("alpha") * rho_of(rho, d, r.get("h0"));
    const double slack = dot(d.grad_h, delta) + b; // grad h' D_k + alpha rho_k
    const double norm_h = std::sqrt(dot(d.grad_h, d.grad_h)), norm_d = std::sqrt(dot(delta, delta));
    const double roundoff = 1e-8 * (std::abs(b) + norm_h * norm_d);
    EXPECT_LE(slack, roundoff) << "step " << k;
    if (r.get("lambda") > 0) {
      EXPECT_NEAR(slack, 0.0, roundoff) << "step " << k << ": complementary slackness";
      ++active;
    }
  });
  EXPECT_GT(active, 0);
}

INSTANTIATE_TEST_SUITE_P(BothRho, ClosedFormQp, ::testing::Values("grad2", "sqrt_h0"));

} // namespace
} // namespace bilevel::test
