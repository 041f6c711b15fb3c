#include "bilevel/methods/igfm.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/inner_step.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bilevel {

namespace {
/// Offset of the direction streams (one per iteration), away from the small stream numbers
/// the problems draw their data from with the same -seed.
constexpr std::uint64_t kDirectionStreams = 0x16f3'0000'0000ULL;
/// The reservoir draws' stream, indexed by the iteration (below the direction streams).
constexpr std::uint64_t kReservoirStream = 0x16f2'0000'0000ULL;
} // namespace

Igfm::Config Igfm::Config::from_options(const RunSpec& run) {
  OptionSection section("algorithm igfm");
  Config c{};
  c.eta = options::get_positive("-alg_eta", 0.05, "outer step eta");
  c.delta = options::get_positive("-alg_delta", 0.01, "smoothing radius delta of the directions");
  c.batch = static_cast<int>(options::get_int("-alg_igfm_batch", 1, 1, 1000000,
                                              "B random directions per iteration (paper: 1)"));
  c.groups = static_cast<int>(options::get_int(
      "-alg_groups", 1, 1, 1000000, "rank groups sharing the 2B evaluations of phi_tilde"));
  c.seed = run.seed;
  c.replicate = run.make_problem;
  c.warm_start = options::get_bool("-alg_igfm_warm_start", true,
                                   "start every SGM run from y_out at the current x");
  c.sgm = SwitchingGradient::Config::from_options();
  return c;
}

Eigen::VectorXd Igfm::direction(long long t, int b, Eigen::Index nx) const {
  // Indexed by (t, b, coordinate) only: independent of B, G and the rank count. A normalised
  // standard Gaussian is uniform on the unit sphere.
  const CounterRng rng(static_cast<std::uint64_t>(config_.seed),
                       kDirectionStreams + static_cast<std::uint64_t>(t));
  Eigen::VectorXd u(nx);
  for (Eigen::Index j = 0; j < nx; ++j)
    u[j] = rng.normal(static_cast<std::uint64_t>(b) * static_cast<std::uint64_t>(nx) +
                      static_cast<std::uint64_t>(j));
  return u / u.norm();
}

bool Igfm::reservoir_keeps(long long seed, long long t) {
  const CounterRng rng(static_cast<std::uint64_t>(seed), kReservoirStream);
  return rng.uniform(static_cast<std::uint64_t>(t)) * static_cast<double>(t + 1) < 1.0;
}

void Igfm::setup(Problem& problem, Vec x0) {
  problem_ = &problem;
  y_ = problem.create_y();
  problem.initial_y(x0, y_);
  y_start_ = copy_of(y_);
  iteration_ = 0;
  x_uniform_ = copy_of(x0);
  uniform_index_ = 0;

  groups_ = std::make_unique<RankGroups>(problem.comm(), config_.groups);
  // The same instance on the group's communicator: the run's factory, with the run's options,
  // builds identical data.
  if (!config_.replicate)
    throw std::logic_error("igfm: the run specification has no problem factory");
  group_problem_ = config_.replicate(groups_->group_comm());
  if (group_problem_->nx() != problem.nx() || group_problem_->ny() != problem.ny())
    throw InputError("igfm: problem '" + problem.name() +
                     "' built on a rank group has a different size than on all ranks");
  group_x_ = group_problem_->create_x();
  group_y_ = group_problem_->create_y();
  group_y0_ = group_problem_->create_y();
  // -alg_sgm_tau 0: 1/L at (x0, y0), the step the gradient baselines take by default.
  config_.sgm.tau = resolve_inner_step(config_.sgm.tau, problem, x0, y_, "igfm", "-alg_sgm_tau");
  group_sgm_ = std::make_unique<SwitchingGradient>(config_.sgm, group_y_);
  PetscInt parent_begin = 0, parent_end = 0, group_begin = 0, group_end = 0;
  BB_PETSC(VecGetOwnershipRange(y_, &parent_begin, &parent_end));
  BB_PETSC(VecGetOwnershipRange(group_y_, &group_begin, &group_end));
  int same = parent_begin == group_begin && parent_end == group_end;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, problem.comm());
  same_y_layout_ = same != 0;
  if (config_.warm_start)
    (void)lower_solution(gather_to_all(x0)); // y_out at x0: the first warm start
}

SwitchingGradient::Result Igfm::lower_solution(const Eigen::VectorXd& x) {
  // Every group runs the same SGM on its own copy (redundantly, but side by side): cheaper than
  // one run on the parent, whose every oracle would communicate across all ranks.
  scatter_owned(x, group_x_);
  transfer_y(y_, group_y_);
  const SwitchingGradient::Result r = group_sgm_->run(*group_problem_, group_x_, group_y_);
  transfer_y(group_y_, y_);
  return r;
}

void Igfm::transfer_y(Vec from, Vec to) const {
  if (!same_y_layout_) {
    scatter_owned(gather_to_all(from), to);
    return;
  }
  // The Vecs live on different communicators, so VecCopy does not apply; the local rows match.
  const PetscScalar* source = nullptr;
  PetscScalar* target = nullptr;
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(from, &n));
  BB_PETSC(VecGetArrayRead(from, &source));
  BB_PETSC(VecGetArray(to, &target));
  std::copy(source, source + n, target);
  BB_PETSC(VecRestoreArray(to, &target));
  BB_PETSC(VecRestoreArrayRead(from, &source));
}

void Igfm::step(Vec x, Record& record) {
  Problem& problem = *problem_;
  // Reservoir step: after it, x_uniform_ is uniform over x_0 ... x_t (the same draw on every
  // rank, from the seed and t alone).
  if (iteration_ > 0 && reservoir_keeps(config_.seed, iteration_)) {
    BB_PETSC(VecCopy(x, x_uniform_));
    uniform_index_ = iteration_;
  }
  const int B = config_.batch;
  const int points = 2 * B;
  Eigen::VectorXd grad, x_next;
  // [phi_tilde, f-steps, g-steps, K0 phase diverged] of every point: each group's rank 0 fills
  // its points, the rest stay zero, so the sum over the parent is exact and independent of G.
  std::vector<double> values(4 * static_cast<std::size_t>(points), 0.0);
  {
    LogScope scope(log_events().hypergradient);
    const Eigen::VectorXd xf = gather_to_all(x);
    transfer_y(config_.warm_start ? y_.get() : y_start_.get(), group_y0_);
    const Eigen::Index nx = xf.size();
    int begin = 0, end = 0, group_rank = 0;
    groups_->owned_items(points, begin, end);
    MPI_Comm_rank(groups_->group_comm(), &group_rank);
    const OracleCounts group_start = group_problem_->oracle_counts();
    for (int i = begin; i < end; ++i) {
      const double sign = i % 2 == 0 ? 1.0 : -1.0; // point 2b: x + delta u_b, 2b+1: x - delta u_b
      scatter_owned(xf + sign * config_.delta * direction(iteration_, i / 2, nx), group_x_);
      BB_PETSC(VecCopy(group_y0_, group_y_));
      const SwitchingGradient::Result r = group_sgm_->run(*group_problem_, group_x_, group_y_);
      if (group_rank == 0) {
        values[static_cast<std::size_t>(i)] = r.phi_tilde;
        values[static_cast<std::size_t>(points + i)] = r.f_steps;
        values[static_cast<std::size_t>(2 * points + i)] = r.g_steps;
        values[static_cast<std::size_t>(3 * points + i)] = r.lower_descended ? 0.0 : 1.0;
      }
    }
    logged_allreduce(problem.comm(), values.data(), static_cast<int>(values.size()), MPI_SUM);
    // The groups evaluated different points on their own copies: the run's calls are the sum
    // over the groups (each counted by its rank 0), the same for any rank count.
    const OracleCounts points_counts =
        group_rank == 0 ? group_problem_->oracle_counts().since(group_start) : OracleCounts{};
    problem.oracle_counts() += points_counts.summed_over(problem.comm());
    // Algorithm 2 line 5, averaged over the batch (in a fixed order on every rank).
    grad = Eigen::VectorXd::Zero(nx);
    const double scale = static_cast<double>(nx) / (2.0 * config_.delta);
    for (int b = 0; b < B; ++b)
      grad +=
          scale *
          (values[static_cast<std::size_t>(2 * b)] - values[static_cast<std::size_t>(2 * b + 1)]) *
          direction(iteration_, b, nx);
    grad /= static_cast<double>(B);
    LogScope outer(log_events().outer_step);
    x_next = xf - config_.eta * grad; // line 6
    scatter_owned(x_next, x);
  }
  ++iteration_;
  // phi_tilde at the new x: it gives the lower iterate the driver reports, so
  // upper_objective is IGFM's own estimate of phi there.
  if (!config_.warm_start)
    BB_PETSC(VecCopy(y_start_, y_));
  // Every group runs this same solve: its calls count once.
  const OracleCounts lower_start = group_problem_->oracle_counts();
  const SwitchingGradient::Result r = lower_solution(x_next);
  problem.oracle_counts() += group_problem_->oracle_counts().since(lower_start);

  double f_steps = 0, g_steps = 0, diverged = r.lower_descended ? 0.0 : 1.0;
  for (int i = 0; i < points; ++i) {
    f_steps += values[static_cast<std::size_t>(points + i)];
    g_steps += values[static_cast<std::size_t>(2 * points + i)];
    diverged += values[static_cast<std::size_t>(3 * points + i)];
  }
  // SGM's K0 phase has no tolerance, but one that increased g failed: flag it.
  record.solve("sgm_lower", diverged == 0.0, config_.sgm.k0);
  record.set("hypergrad_norm", grad.norm());
  record.set("phi_tilde", r.phi_tilde);
  record.set("sgm_lower_gap", r.lower_gap);
  record.set("sgm_f_steps", f_steps / points); // mean over the 2B evaluations
  record.set("sgm_g_steps", g_steps / points);
}

void Igfm::save_state(hid_t group) const {
  Algorithm::save_state(group);
  // The directions are indexed by the iteration: a restart must continue the count.
  h5::write_attribute(group, "igfm_iteration", iteration_);
  h5::write_vec(group, "x_uniform", x_uniform_);
  h5::write_attribute(group, "igfm_uniform_index", uniform_index_);
  h5::write_attribute(group, "sgm_tau", config_.sgm.tau); // resolved: 1/L when given as 0
}

void Igfm::load_state(hid_t group) {
  Algorithm::load_state(group);
  iteration_ = h5::read_int_attribute(group, "igfm_iteration");
  h5::read_vec(group, "x_uniform", x_uniform_);
  uniform_index_ = h5::read_int_attribute(group, "igfm_uniform_index");
}

} // namespace bilevel
