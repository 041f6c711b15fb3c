// IGFM (docs/algorithms.md §5): SGM (Algorithm 1) against the closed-form optimistic phi of the
// hard instances (Theorem 6.1's guarantee |f(x, y_out) - phi(x)| <= zeta, g - g* <= zeta, with
// zeta fixed here), and IGFM (Algorithm 2) following the known hypergradients: to x* = 1 on
// hard_liu (phi = (x - 1)^2), to x* = 0 on hard_discontinuous, and |x| growing at unit speed
// on hard_nonsmooth (phi = -|x|, descent has no stationary point to stop at).
#include "test_support.hpp"

#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/methods/igfm.hpp"
#include "bilevel/solvers/switching_gradient.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace bilevel::test {
namespace {

struct SgmCase {
  const char* problem;
  double x;
  double g_star; ///< min_y g(x, y), in closed form
};

void PrintTo(const SgmCase& c, std::ostream* os) {
  *os << c.problem << " x=" << c.x;
}

class Sgm : public ::testing::TestWithParam<SgmCase> {};

TEST_P(Sgm, EstimatesPhiWithinZeta) {
  const SgmCase& c = GetParam();
  auto problem = make_problem(c.problem, "");
  OwnedVec x = problem->create_x(), y = problem->create_y();
  BB_PETSC(VecSet(x, c.x));
  BB_PETSC(VecSet(y, 0.0));
  // theta bounds the lower-level gap of the recorded iterates; K large makes the averaging's
  // O(1/K) transient small. hard_liu's y2 moves only on f-steps, which are rare (each overshoots
  // the 2 theta band in y1), so SGM from y0 = 0 is accurate only for |x| small: at x = -1.5
  // these settings leave an error of 0.42 (why IGFM warm-starts SGM).
  const SwitchingGradient::Config config{200, 4000, 0.02, 1e-5};
  SwitchingGradient sgm(config, y);
  const SwitchingGradient::Result r = sgm.run(*problem, x, y);

  OwnedVec grad = problem->create_x(), y_star = problem->create_y();
  problem->exact_hypergradient(x, grad, y_star);
  const double phi = problem->upper_value(x, y_star);
  constexpr double kZeta = 1e-2;
  EXPECT_LE(std::abs(r.phi_tilde - phi), kZeta) << "phi_tilde " << r.phi_tilde << " phi " << phi;
  EXPECT_NEAR(r.phi_tilde, problem->upper_value(x, y), 1e-15);
  EXPECT_LE(problem->lower_value(x, y) - c.g_star, kZeta);
  EXPECT_EQ(r.f_steps + r.g_steps, config.k);
  EXPECT_GT(r.f_steps, 0);
}

INSTANTIATE_TEST_SUITE_P(HardInstances, Sgm,
                         ::testing::Values(SgmCase{"hard_nonsmooth", 0.7, 0.0},
                                           SgmCase{"hard_nonsmooth", -0.4, 0.0},
                                           SgmCase{"hard_liu", 0.3, -0.09},
                                           SgmCase{"hard_liu", -0.3, -0.09},
                                           SgmCase{"hard_discontinuous", 0.5, -0.5},
                                           SgmCase{"hard_discontinuous", -0.8, -0.8}));

int world_size() {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  return size;
}

/// Runs `iters` IGFM steps on `problem` with `options` and returns the final (scalar) x and
/// the last record; `groups` rank groups (0: one per rank, the cheapest layout).
double run_igfm(const std::string& problem_name, const std::string& options, int iters,
                Record& record, int groups = 0) {
  // The options must outlive setup(): IGFM builds its rank groups' copies of the problem from
  // the same database.
  ScopedOptions scoped(options + " -alg_groups " +
                       std::to_string(groups > 0 ? groups : world_size()));
  AlgorithmRun run = start_run(problem_name, "igfm");
  run.advance(iters, record);
  return gather_to_all(run.x)[0];
}

const char* kSgm = " -alg_sgm_k0 100 -alg_sgm_k 300 -alg_sgm_tau 0.02 -alg_sgm_theta 1e-5";

TEST(Igfm, ConvergesToTheMinimiserOnLiu) {
  Record record;
  const std::string opts = std::string("-problem_x0 -1 -alg_eta 0.2 -alg_delta 0.05") + kSgm;
  const double x = run_igfm("hard_liu", opts, 30, record);
  // phi = (x - 1)^2: x* = 1. Contraction 1 - 2 eta = 0.6 per step from |x0 - 1| = 2 leaves
  // 4e-7; the rest is SGM's inexactness over 2 delta.
  EXPECT_NEAR(x, 1.0, 1e-2);
  EXPECT_LE(record.get("hypergrad_norm"), 1e-2);
  EXPECT_NEAR(record.get("phi_tilde"), 0.0, 1e-3);
}

TEST(Igfm, FollowsMinusAbsOnNonsmooth) {
  Record record;
  const std::string opts = std::string("-problem_x0 0.5 -alg_eta 0.05 -alg_delta 0.01") + kSgm;
  const double x = run_igfm("hard_nonsmooth", opts, 20, record);
  // phi' = -sign(x) exactly for |x| > delta (nx = 1: u = +-1), so x = 0.5 + 20 eta = 1.5.
  EXPECT_NEAR(x, 1.5, 0.05);
  EXPECT_NEAR(record.get("hypergrad_norm"), 1.0, 0.1);
  EXPECT_NEAR(record.get("phi_tilde"), -1.5, 0.05);
}

TEST(Igfm, ApproachesTheJumpOnDiscontinuous) {
  Record record;
  const std::string opts = std::string("-problem_x0 0.8 -alg_eta 0.1 -alg_delta 0.1") + kSgm;
  const double x = run_igfm("hard_discontinuous", opts, 30, record);
  // x* = 0 (phi = x^2 + sign(x), phi(0) = -1). Near 0 the jump of 2 makes the estimate
  // 2/(2 delta) = 1/delta, a kick of eta/delta = 1 to the left, and phi' = 2x pulls back:
  // once on the left, the iterate cycles in [-1.1, 0] (phi_tilde = x^2 - 1 there), never
  // returning to the upper branch.
  EXPECT_LE(x, 0.0);
  EXPECT_GE(x, -1.15);
  EXPECT_LT(record.get("phi_tilde"), 0.25);
}

TEST(Igfm, ZeroTauStepsWithOneOverTheLowerLipschitzConstant) {
  // adversarial_ls: grad_y^2 g = (1 + lambda) M / n, so L = (1 + 1) * sigma_max / 40 = 0.05 and
  // tau = 20. The run with -alg_sgm_tau 0 must take exactly the steps of -alg_sgm_tau 20.
  const std::string data = "-problem_data synthetic -problem_n 40 -problem_d 4 -seed 5 "
                           "-alg_eta 0.1 -alg_delta 1e-3 -alg_sgm_k0 5 -alg_sgm_k 5 "
                           "-alg_sgm_theta 1e-3 -alg_sgm_tau ";
  auto run = [&](const std::string& tau, double& resolved) {
    ScopedOptions scoped(data + tau);
    AlgorithmRun started = start_run("adversarial_ls", "igfm");
    resolved = dynamic_cast<Igfm&>(*started.algorithm).sgm_tau();
    Record record;
    started.advance(3, record);
    return gather_to_all(started.x);
  };
  double from_zero = 0, given = 0;
  const Eigen::VectorXd x_zero = run("0", from_zero), x_given = run("20", given);
  EXPECT_NEAR(from_zero, 20.0, 1e-12);
  EXPECT_EQ(given, 20.0);
  EXPECT_LE((x_zero - x_given).norm(), 1e-12 * (1.0 + x_given.norm()));
}

TEST(Igfm, ZeroTauIsRefusedWhenTheLowerLevelIsFlat) {
  // hard_nonsmooth has g = 0: there is no 1/L to take.
  ScopedOptions scoped("-alg_sgm_tau 0");
  EXPECT_THROW(start_run("hard_nonsmooth", "igfm"), InputError);
}

TEST(Igfm, UniformOutputIsOneOfTheIterates) {
  // Theorem 6.2's output after T steps is x_t for the drawn t in [0, T): it must equal that
  // iterate exactly (hard_nonsmooth's iterates are all distinct: |x| grows by eta per step).
  constexpr int kSteps = 6;
  for (int seed = 0; seed < 3; ++seed) {
    ScopedOptions scoped("-problem_x0 0.5 -alg_eta 0.05 -alg_delta 0.01 -alg_sgm_k0 2 "
                         "-alg_sgm_k 4 -alg_sgm_tau 0.5 -alg_sgm_theta 1e-5 -seed " +
                         std::to_string(seed));
    AlgorithmRun run = start_run("hard_nonsmooth", "igfm");
    const auto& igfm = dynamic_cast<const Igfm&>(*run.algorithm);
    std::vector<double> iterates;
    Record record;
    long long expected = 0; // the reservoir's last replacement before step T
    for (int t = 0; t < kSteps; ++t) {
      iterates.push_back(gather_to_all(run.x)[0]);
      if (t > 0 && Igfm::reservoir_keeps(seed, t))
        expected = t;
      run.advance(1, record);
    }
    ASSERT_EQ(igfm.uniform_index(), expected);
    EXPECT_EQ(gather_to_all(igfm.uniform_iterate())[0],
              iterates[static_cast<std::size_t>(expected)]);
  }
}

TEST(Igfm, ReservoirDrawIsUniformOverTheIterates) {
  // The index kept after T steps, over many seeds: each of 0 ... T-1 about 1/T of the time.
  constexpr int kSteps = 4, kSeeds = 4000;
  std::vector<int> drawn(kSteps, 0);
  for (int seed = 0; seed < kSeeds; ++seed) {
    int kept = 0;
    for (int t = 1; t < kSteps; ++t)
      if (Igfm::reservoir_keeps(seed, t))
        kept = t;
    ++drawn[static_cast<std::size_t>(kept)];
  }
  // Binomial(4000, 1/4): mean 1000, sd 27.4; [890, 1110] is 4 sd either side.
  for (int t = 0; t < kSteps; ++t) {
    EXPECT_GE(drawn[static_cast<std::size_t>(t)], 890) << t;
    EXPECT_LE(drawn[static_cast<std::size_t>(t)], 1110) << t;
  }
}

TEST(Igfm, BatchAndGroupsGiveTheSameIterates) {
  // The same B = 4 directions evaluated by 1 group and by every rank as its own group.
  const std::string opts = std::string("-problem_x0 -1 -alg_eta 0.1 -alg_delta 0.05 "
                                       "-alg_igfm_batch 4") +
                           kSgm;
  Record one, many;
  const double x1 = run_igfm("hard_liu", opts, 5, one, 1);
  const double xg = run_igfm("hard_liu", opts, 5, many, world_size());
  EXPECT_NEAR(x1, xg, 1e-12);
  EXPECT_NEAR(one.get("hypergrad_norm"), many.get("hypergrad_norm"), 1e-12);
}

} // namespace
} // namespace bilevel::test
