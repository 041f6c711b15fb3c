// bilevel_vi_bench: the ITD-VI paper's (Kaushik & Jin) solver benchmarks
// (docs/itd-vi-kaushik-jin.md), written as JSON by rank 0. Not a test (no CTest entry); run it with
// benchmarks/run-vi.
//  - `inner`: time to a D-gap of -bench_gap on obstacle_control at each -bench_grids size, for
//    the natural-map fixed point (b = (L + mu)/2, the best step for the symmetric K) and for
//    PETSc's SNESVI (vinewtonrsls, GMRES + BoomerAMG on the reduced Laplacian). The fixed point is
//    checked every -bench_chunk steps (checks not timed); when it hits -bench_time_cap first,
//    the time to the tolerance is extrapolated from its measured D-gap decay.
//  - `hypergrad`: seconds per itd_vi hypergradient in forward and reverse mode on cournot as
//    nx = N grows (-bench_firms), T = -bench_inner_iters.
#include "bilevel/core/blas_kernels.hpp"
#include "collective_timer.hpp"

#include "bilevel/catalog.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/solvers/natural_map.hpp"
#include "bilevel/solvers/natural_map_iteration.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <petscsys.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace bilevel;

std::vector<PetscInt> parse_list(const std::string& option, const std::string& text) {
  std::vector<PetscInt> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      values.push_back(std::stoi(item));
    } catch (const std::exception&) {
      throw InputError(option + ": '" + item + "' is not an integer");
    }
  }
  return values;
}

struct Settings {
  std::string mode, out, grids, firms;
  double gap, time_cap;
  PetscInt chunk, inner_iters, repeats;
};

/// One grid of the `inner` benchmark, as a JSON object.
std::string inner_case(MPI_Comm comm, const Settings& s, PetscInt grid) {
  std::unique_ptr<Problem> problem;
  {
    ScopedOptions scoped("-problem_grid " + std::to_string(grid));
    problem = problem_registry().at("obstacle_control").create(RunSpec::from_options(comm));
  }
  OwnedVec x = problem->create_x(), y_snes = problem->create_y(), y_fp = problem->create_y();
  problem->initial_x(x);
  // SNESVI from y0 = psi.
  problem->initial_y(x, y_snes);
  SnesViSolver::Outcome snes{};
  double snes_seconds = 0;
  {
    ScopedOptions scoped("");
    SnesViSolver solver(*problem, y_snes, "bench_snesvi_");
    snes_seconds = bench::time_collective(comm, [&] { snes = solver.solve(x, y_snes, s.gap); });
  }
  // The fixed point from the same start.
  const Curvature c = problem->lower_curvature(x, nullptr, CurvatureNeed::both);
  const double b = 0.5 * (c.lipschitz + c.mu);
  problem->initial_y(x, y_fp);
  NaturalMap map(*problem, y_fp, b);
  NaturalMapIteration loop(map, y_fp);
  double fp_seconds = 0, gap = problem->lower_residual(x, y_fp);
  PetscInt steps = 0;
  std::vector<double> history_steps, history_gaps;
  while (gap > s.gap && fp_seconds < s.time_cap) {
    fp_seconds +=
        bench::time_collective(comm, [&] { (void)loop.run(x, y_fp, static_cast<int>(s.chunk)); });
    steps += s.chunk;
    gap = problem->lower_residual(x, y_fp);
    history_steps.push_back(static_cast<double>(steps));
    history_gaps.push_back(gap);
  }
  const bool reached = gap <= s.gap;
  // Not reached: the D-gap decays geometrically (R-linear, Lemma 12); the rate is fitted on the
  // last half of the checks and the remaining steps extrapolated at the measured cost a step.
  double projected_seconds = fp_seconds, rate = std::nan("");
  if (!reached && history_gaps.size() >= 4) {
    const std::size_t first = history_gaps.size() / 2, last = history_gaps.size() - 1;
    rate = (std::log(history_gaps[last]) - std::log(history_gaps[first])) /
           (history_steps[last] - history_steps[first]);
    const double remaining = rate < 0 ? std::log(s.gap / gap) / rate : std::nan("");
    projected_seconds = fp_seconds * (1.0 + remaining / static_cast<double>(steps));
  }
  OwnedVec diff = copy_of(y_fp);
  BB_PETSC(VecAXPY(diff, -1.0, y_snes));
  PetscReal nd = 0, ns = 0;
  BB_PETSC(VecNorm(diff, NORM_2, &nd));
  BB_PETSC(VecNorm(y_snes, NORM_2, &ns));
  char buffer[1024];
  std::snprintf(buffer, sizeof buffer,
                "{\"grid\": %d, \"unknowns\": %d, \"snesvi\": {\"seconds\": %.6g, "
                "\"newton_steps\": %d, \"linear_iterations\": %d, \"d_gap\": %.6g, "
                "\"converged\": %s}, \"fixed_point\": {\"b\": %.6g, \"seconds\": %.6g, "
                "\"steps\": %d, \"d_gap\": %.6g, \"reached\": %s, \"log_gap_per_step\": %.6g, "
                "\"projected_seconds\": %.6g}, \"relative_difference\": %.3g}",
                static_cast<int>(grid), static_cast<int>(grid * grid), snes_seconds,
                static_cast<int>(snes.newton_steps), static_cast<int>(snes.linear_iterations),
                snes.residual, snes.converged ? "true" : "false", b, fp_seconds,
                static_cast<int>(steps), gap, reached ? "true" : "false", rate, projected_seconds,
                nd / ns);
  return buffer;
}

/// One firm count of the `hypergrad` benchmark, as a JSON object.
std::string hypergrad_case(MPI_Comm comm, const Settings& s, PetscInt firms) {
  std::unique_ptr<Problem> problem;
  {
    ScopedOptions scoped("-problem_firms " + std::to_string(firms));
    problem = problem_registry().at("cournot").create(RunSpec::from_options(comm));
  }
  OwnedVec x = problem->create_x(), grad[2] = {problem->create_x(), problem->create_x()};
  problem->initial_x(x);
  const char* modes[2] = {"forward", "reverse"};
  double seconds[2] = {0, 0};
  for (int m = 0; m < 2; ++m) {
    ScopedOptions scoped(std::string("-alg_itd_mode ") + modes[m] + " -alg_inner_iters " +
                         std::to_string(s.inner_iters) + " -alg_warm_start false");
    auto alg = algorithm_registry().at("itd_vi").create(RunSpec::from_options(comm));
    alg->setup(*problem, x);
    Record record;
    alg->hypergradient(x, grad[m], record); // warm-up: first-touch of the Jacobian columns
    seconds[m] = bench::time_collective(comm,
                                        [&] {
                                          for (PetscInt r = 0; r < s.repeats; ++r)
                                            alg->hypergradient(x, grad[m], record);
                                        }) /
                 static_cast<double>(s.repeats);
  }
  OwnedVec diff = copy_of(grad[0]);
  BB_PETSC(VecAXPY(diff, -1.0, grad[1]));
  PetscReal nd = 0, nr = 0;
  BB_PETSC(VecNorm(diff, NORM_2, &nd));
  BB_PETSC(VecNorm(grad[1], NORM_2, &nr));
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "{\"nx\": %d, \"forward_seconds\": %.6g, \"reverse_seconds\": %.6g, "
                "\"relative_difference\": %.3g}",
                static_cast<int>(firms), seconds[0], seconds[1], nd / nr);
  return buffer;
}

void run(MPI_Comm comm, int rank, int size) {
  Settings s{};
  {
    OptionSection section("bilevel_vi_bench");
    s.mode = options::get_choice("-bench_mode", "both", {"inner", "hypergrad", "both"},
                                 "which benchmark");
    s.out = options::get_string("-bench_out", "results/vi/vi_bench.json", "JSON output file");
    s.grids = options::get_string("-bench_grids", "256,512,1024", "obstacle grid sizes N");
    s.firms = options::get_string("-bench_firms", "10,30,100,300,1000,3000", "cournot firm counts");
    s.gap = options::get_positive("-bench_gap", 1e-10, "D-gap tolerance");
    s.time_cap = options::get_positive("-bench_time_cap", 300.0,
                                       "seconds before the fixed point is extrapolated");
    s.chunk = options::get_int("-bench_chunk", 50, 1, 100000000, "fixed-point steps a check");
    s.inner_iters = options::get_int("-bench_inner_iters", 20, 1, 100000, "itd_vi T");
    s.repeats = options::get_int("-bench_repeats", 3, 1, 100000, "hypergradients timed");
  }
  options::reject_unused();
  char head[128];
  std::snprintf(head, sizeof head, "{\"nranks\": %d, \"d_gap_tolerance\": %g,\n \"inner\": [", size,
                s.gap);
  std::string json = head;
  if (s.mode != "hypergrad") {
    const char* sep = "\n  ";
    for (PetscInt grid : parse_list("-bench_grids", s.grids)) {
      json += sep + inner_case(comm, s, grid);
      sep = ",\n  ";
      if (rank == 0)
        std::fprintf(stderr, "bilevel_vi_bench: grid %d done\n", static_cast<int>(grid));
    }
  }
  json += "],\n \"hypergrad\": [";
  if (s.mode != "inner") {
    const char* sep = "\n  ";
    for (PetscInt firms : parse_list("-bench_firms", s.firms)) {
      json += sep + hypergrad_case(comm, s, firms);
      sep = ",\n  ";
      if (rank == 0)
        std::fprintf(stderr, "bilevel_vi_bench: nx %d done\n", static_cast<int>(firms));
    }
  }
  json += "]}\n";
  if (rank == 0) {
    std::FILE* f = std::fopen(s.out.c_str(), "w");
    if (!f)
      throw InputError("cannot write " + s.out);
    std::fputs(json.c_str(), f);
    std::fclose(f);
  }
}

} // namespace

int main(int argc, char** argv) {
  bilevel::select_blas_kernels(argv); // before MPI: it may re-execute the process
  if (PetscInitialize(&argc, &argv, nullptr, nullptr) != 0)
    return 1;
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  int rank = 0, size = 1, code = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  try {
    run(PETSC_COMM_WORLD, rank, size);
  } catch (const InputError& e) {
    if (rank == 0)
      std::fprintf(stderr, "bilevel_vi_bench: error: %s\n", e.what());
    code = 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bilevel_vi_bench: failure on rank %d: %s\n", rank, e.what());
    std::fflush(stderr);
    MPI_Abort(PETSC_COMM_WORLD, 1);
  }
  PetscFinalize();
  return code;
}
