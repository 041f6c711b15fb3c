// bilevel_benchmarks: micro-benchmarks of the oracles' hot kernels under MPI, each compared with
// both of its bounds, bytes / STREAM triad bandwidth and flops / dgemm rate, the two measured at
// the start of the same run (docs/performance.md). Start
// it with mpiexec at any rank count (benchmarks/run-micro does); rank 0 reports, the other ranks
// run the same collective benchmarks silently.
#include "adversarial_ls_kernels.hpp"
#include "bilevel/core/blas_kernels.hpp"
#include "free_set_extraction.hpp"
#include "harness.hpp"
#include "minibatch_kernel.hpp"

#include "bilevel/catalog.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/problems/hyperclean.hpp"
#include "bilevel/problems/logreg_hyper.hpp"
#include "bilevel/version.hpp"

#include <petscmat.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

// 128 MiB per array, four times the 32 MiB L3 of the machine in docs/performance.md.
constexpr std::size_t kTriadDoubles = std::size_t{1} << 24;
constexpr int kReferenceTrials = 21;
// 1000^3: large enough for OpenBLAS's full rate (2 GFLOP, tens of ms per product).
constexpr int kDgemmSize = 1000;
constexpr int kDgemmTrials = 11;
// The instance: 10 000 training rows, a 63 MB feature matrix (31 MB per rank at 2 ranks,
// with the other rank's half 2 x the 32 MiB L3): every pass over it streams from memory.
const char* const kLogregOptions = "-problem_train 10000 -problem_val 1000 -problem_test 1000";
// Hyper-cleaning on the same rows, for the cross derivative d_x grad_y g (per-sample).
const char* const kHypercleanOptions = "-problem_train 10000 -problem_val 1000 -problem_test 1000";
// The stochastic benchmark's instances (docs/stochastic-benchmark.md) for the minibatch kernel:
// the quadratic at its defaults (32 768 / 1 024 samples, dimensions 100 / 10), hyper-cleaning
// with 20 000 / 5 000 samples.
const char* const kQuadraticMinibatchOptions = "";
const char* const kHypercleanMinibatchOptions =
    "-problem_train 20000 -problem_val 5000 -problem_test 1000 -problem_corruption 0.5 "
    "-problem_lambda 0.2";

// Flags that let ranks diverge and deadlock: random interleaving shuffles the benchmarks with a
// per-process random seed, and a warm-up time lets each rank choose its own warm-up count.
constexpr std::array<const char*, 2> kUnsupportedFlags = {"--benchmark_enable_random_interleaving",
                                                          "--benchmark_min_warmup_time"};

bool starts_with(const char* arg, const char* prefix) {
  return std::strncmp(arg, prefix, std::strlen(prefix)) == 0;
}

using OwnedRandom = bilevel::PetscHandle<PetscRandom, PetscRandomDestroy>;

/// A generator with a fixed seed: every run draws the same values, and so does every rank on
/// PETSC_COMM_SELF.
OwnedRandom seeded_random(MPI_Comm comm, unsigned long seed) {
  OwnedRandom random;
  BB_PETSC(PetscRandomCreate(comm, random.receive()));
  BB_PETSC(PetscRandomSetSeed(random, seed));
  BB_PETSC(PetscRandomSeed(random));
  return random;
}

/// Uniform values in [0, scale): reproducible, nonzero, and different per entry, so the softmax
/// scores differ between classes as in a real iterate.
void fill_random(Vec v, unsigned long seed, double scale) {
  const OwnedRandom random = seeded_random(PetscObjectComm(reinterpret_cast<PetscObject>(v)), seed);
  BB_PETSC(VecSetRandom(v, random));
  BB_PETSC(VecScale(v, scale));
}

std::unique_ptr<bilevel::Problem> create_problem(MPI_Comm comm, const char* name,
                                                 const char* options) {
  const bilevel::ScopedOptions scoped(options);
  return bilevel::problem_registry().at(name).create(bilevel::RunSpec::from_options(comm));
}

/// Bytes per feature entry the one-pass oracles read: the 8-bit copy when the rows carry one
/// (Fashion-MNIST's pixels, LabeledRows::bytes), else the doubles.
double oracle_entry_bytes(const bilevel::LabeledRows& rows) {
  return rows.bytes.size() != 0 ? 1.0 : 8.0;
}

/// logreg_hyper with the vectors its oracles take, and its training features as PETSc matrices.
/// Byte models count the passes over the local feature matrices (N x F entries summed over
/// ranks: bytes for the oracles, doubles for PETSc's products), the traffic that dominates: the
/// oracles read X once (row_block_pass.hpp), and the replicated x and y (7850 doubles) are small.
/// Flops count the products with the features (2 N F C per product with a weight matrix), not the
/// softmax exponentials.
struct Logreg {
  explicit Logreg(MPI_Comm comm)
      : problem(create_problem(comm, "logreg_hyper", kLogregOptions)),
        train(dynamic_cast<const bilevel::LogregHyper&>(*problem).data().train),
        rows(static_cast<double>(train.global_rows)),
        columns(static_cast<double>(train.features.cols())) {
    x = problem->create_x();
    problem->initial_x(x);
    y = problem->create_y();
    fill_random(y, 1, 0.01);
    other_y = bilevel::duplicate(y);
    fill_random(other_y, 5, 0.01);
    v = bilevel::duplicate(y);
    fill_random(v, 2, 1.0);
    out = bilevel::duplicate(y);
    // Wraps the Eigen matrix without copying: PETSc's dense storage is column-major with leading
    // dimension = local rows, as Eigen's. The products only read it, hence the const_cast.
    BB_PETSC(MatCreateDense(comm, static_cast<PetscInt>(train.features.rows()), PETSC_DECIDE,
                            static_cast<PetscInt>(train.global_rows),
                            static_cast<PetscInt>(train.features.cols()),
                            const_cast<PetscScalar*>(train.features.data()), features.receive()));
    BB_PETSC(MatCreateVecs(features, features_in.receive(), features_out.receive()));
    fill_random(features_in, 3, 1.0);
    // The BLAS reference: each rank's rows times a replicated W, as the oracles compute them.
    BB_PETSC(MatCreateSeqDense(PETSC_COMM_SELF, static_cast<PetscInt>(train.features.rows()),
                               static_cast<PetscInt>(train.features.cols()),
                               const_cast<PetscScalar*>(train.features.data()),
                               local_features.receive()));
    BB_PETSC(MatCreateSeqDense(PETSC_COMM_SELF, static_cast<PetscInt>(train.features.cols()),
                               bilevel::FashionMnist::kClasses, nullptr, weights.receive()));
    BB_PETSC(MatSetRandom(weights, seeded_random(PETSC_COMM_SELF, 4)));
    BB_PETSC(
        MatMatMult(local_features, weights, MAT_INITIAL_MATRIX, PETSC_DEFAULT, scores.receive()));
    MPI_Comm_size(comm, &ranks);
  }

  /// grad_y g (gx not requested, as the inner solvers call it): one pass, two products (the
  /// scores X W and the gradient X' R).
  bench::Cost gradient_cost() const {
    return {oracle_entry_bytes(train) * rows * columns, 2 * 2 * rows * columns * kClasses};
  }
  /// grad^2_yy g v at a new y: one pass, three products (X W for the probabilities, Z = X V,
  /// X' R).
  bench::Cost hvp_cost() const {
    return {oracle_entry_bytes(train) * rows * columns, 3 * 2 * rows * columns * kClasses};
  }
  /// grad^2_yy g v at the y of the previous product (CG's case): the probabilities are kept,
  /// so one pass and two products (X V, X' R).
  bench::Cost kept_hvp_cost() const {
    return {oracle_entry_bytes(train) * rows * columns, 2 * 2 * rows * columns * kClasses};
  }
  /// MatMult reads the matrix once, writes N outputs, and every rank reads the whole gathered
  /// input vector.
  bench::Cost matmult_cost() const {
    return {8 * (rows * columns + rows + ranks * columns), 2 * rows * columns};
  }
  /// The local scores X W as a sequential MatMatMult computes them, with BLAS dgemm (OpenBLAS
  /// here): one pass like each of the oracles' Eigen products, the reference for what those
  /// could cost. Reads the features once, writes N x C scores; every rank reads the whole of W.
  bench::Cost matmatmult_cost() const {
    return {8 * (rows * columns + rows * kClasses + ranks * columns * kClasses),
            2 * rows * columns * kClasses};
  }

  static constexpr double kClasses = bilevel::FashionMnist::kClasses;
  std::unique_ptr<bilevel::Problem> problem;
  const bilevel::LabeledRows& train;
  double rows, columns;
  int ranks = 1;
  bilevel::OwnedVec x, y, other_y, v, out;
  bool at_other_y = false; ///< which y lower_hess_yy_new_y used last
  bilevel::OwnedMat features;
  bilevel::OwnedVec features_in, features_out;
  bilevel::OwnedMat local_features, weights, scores;
};

/// hyperclean's cross derivative d_x grad_y g [v] (one entry per training sample): one pass, two
/// products (X W, X V); the per-sample results (N doubles) are reduced over ranks.
struct Hyperclean {
  explicit Hyperclean(MPI_Comm comm)
      : problem(create_problem(comm, "hyperclean", kHypercleanOptions)),
        train(dynamic_cast<const bilevel::Hyperclean&>(*problem).data().train) {
    x = problem->create_x();
    problem->initial_x(x);
    y = problem->create_y();
    fill_random(y, 1, 0.01);
    v = bilevel::duplicate(y);
    fill_random(v, 2, 1.0);
    out_x = bilevel::duplicate(x);
  }
  bench::Cost cross_cost() const {
    const double rows = static_cast<double>(train.global_rows);
    const double columns = static_cast<double>(train.features.cols());
    return {oracle_entry_bytes(train) * rows * columns,
            2 * 2 * rows * columns * bilevel::FashionMnist::kClasses};
  }
  std::unique_ptr<bilevel::Problem> problem;
  const bilevel::LabeledRows& train;
  bilevel::OwnedVec x, y, v, out_x;
};

// None of these kernels calls VecNorm, whose cached value on an unchanged Vec would make a
// repeated call free; each call recomputes from the same inputs.
void register_benchmarks(MPI_Comm comm, Logreg& lr, Hyperclean& hc, bench::Triad& triad,
                         bench::Dgemm& dgemm, const bench::Limits& limits) {
  const auto add = [comm, limits](const char* name, int iterations, bench::Cost cost, auto kernel) {
    benchmark::RegisterBenchmark(
        name,
        [=](benchmark::State& state) { bench::run_collective(state, comm, cost, limits, kernel); })
        ->Iterations(iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("logreg_hyper/lower_hess_yy", 10, lr.kept_hvp_cost(),
      [&lr] { lr.problem->lower_hess_yy(lr.x, lr.y, lr.v, lr.out); });
  // Alternating between two y makes every call compute the probabilities again (ITD's case).
  add("logreg_hyper/lower_hess_yy_new_y", 10, lr.hvp_cost(), [&lr] {
    lr.at_other_y = !lr.at_other_y;
    lr.problem->lower_hess_yy(lr.x, lr.at_other_y ? lr.other_y : lr.y, lr.v, lr.out);
  });
  add("logreg_hyper/lower_gradient", 10, lr.gradient_cost(),
      [&lr] { lr.problem->lower_gradient(lr.x, lr.y, nullptr, lr.out); });
  add("hyperclean/lower_hess_xy", 10, hc.cross_cost(),
      [&hc] { hc.problem->lower_hess_xy(hc.x, hc.y, hc.v, hc.out_x); });
  add("logreg_hyper/features_matmult", 100, lr.matmult_cost(),
      [&lr] { BB_PETSC(MatMult(lr.features, lr.features_in, lr.features_out)); });
  add("logreg_hyper/features_matmatmult", 20, lr.matmatmult_cost(), [&lr] {
    Mat scores = lr.scores;
    BB_PETSC(MatMatMult(lr.local_features, lr.weights, MAT_REUSE_MATRIX, PETSC_DEFAULT, &scores));
  });
  add("stream_triad", 20, triad.cost(), [&triad] { triad(); });
  add("dgemm", 5, dgemm.cost(), [&dgemm] { dgemm(); });
}

/// The 1, 5 and 15 minute load averages when the run started (the machine is shared: a figure
/// means little without them).
std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

void run(MPI_Comm comm, int rank, int size) {
  const std::string load = load_average();
  bench::Triad triad(comm, kTriadDoubles);
  bench::Dgemm dgemm(comm, kDgemmSize);
  const bench::Limits limits{triad.reference_bandwidth(kReferenceTrials),
                             dgemm.reference_rate(kDgemmTrials)};
  Logreg logreg(comm);
  Hyperclean hyperclean(comm);
  register_benchmarks(comm, logreg, hyperclean, triad, dgemm, limits);
  bench::AdversarialLsKernels adversarial(comm);
  adversarial.register_benchmarks(comm, limits);
  bench::MinibatchKernel quadratic_batch(
      create_problem(comm, "finite_sum_quadratic", kQuadraticMinibatchOptions));
  bench::MinibatchKernel hyperclean_batch(
      create_problem(comm, "hyperclean", kHypercleanMinibatchOptions));
  bench::register_minibatch_benchmark(comm, "minibatch/finite_sum_quadratic", quadratic_batch, 2000,
                                      limits);
  bench::register_minibatch_benchmark(comm, "minibatch/hyperclean", hyperclean_batch, 50, limits);
  bench::FreeSetExtraction free_set(comm);
  free_set.register_benchmarks(comm, limits);
  // bba regress reads the rank count from the context; the rest documents the run.
  benchmark::AddCustomContext("nranks", std::to_string(size));
  benchmark::AddCustomContext("load_average", load);
  benchmark::AddCustomContext("suite_version", bilevel::kSuiteVersion);
  benchmark::AddCustomContext("git_commit", bilevel::kGitCommit);
  benchmark::AddCustomContext("stream_triad_bytes_per_second",
                              std::to_string(limits.stream_bytes.per_second));
  benchmark::AddCustomContext("stream_triad_bytes_per_cpu_second",
                              std::to_string(limits.stream_bytes.per_cpu_second));
  benchmark::AddCustomContext("dgemm_flops_per_second",
                              std::to_string(limits.dgemm_flops.per_second));
  benchmark::AddCustomContext("dgemm_flops_per_cpu_second",
                              std::to_string(limits.dgemm_flops.per_cpu_second));
  benchmark::AddCustomContext("dgemm_size", std::to_string(kDgemmSize));
  benchmark::AddCustomContext("blas_kernels", bilevel::blas_kernels());
  benchmark::AddCustomContext("triad_doubles_per_rank", std::to_string(kTriadDoubles));
  benchmark::AddCustomContext("logreg_hyper_options", kLogregOptions);
  benchmark::AddCustomContext("hyperclean_options", kHypercleanOptions);
  benchmark::AddCustomContext("minibatch_hyperclean_options", kHypercleanMinibatchOptions);
  benchmark::AddCustomContext("adversarial_ls_options", bench::AdversarialLsKernels::options());
  benchmark::AddCustomContext("free_set_rows_per_rank",
                              std::to_string(bench::FreeSetExtraction::kRowsPerRank));
  bench::NullReporter silent;
  benchmark::RunSpecifiedBenchmarks(rank == 0 ? nullptr : &silent);
}

} // namespace

int main(int argc, char** argv) {
  bilevel::select_blas_kernels(argv); // before MPI: it may re-execute the process
  // MPI before Google Benchmark, which needs the rank to decide who writes; Google Benchmark
  // before PETSc, so PETSc never sees the benchmark flags.
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  std::vector<char*> args;
  bool help = false;
  for (int i = 0; i < argc; ++i) {
    for (const char* flag : kUnsupportedFlags)
      if (starts_with(argv[i], flag)) {
        if (rank == 0)
          std::fprintf(stderr, "bilevel_benchmarks: %s is not supported under MPI\n", flag);
        MPI_Finalize();
        return 2;
      }
    help = help || std::strcmp(argv[i], "--help") == 0;
    // Only rank 0 writes --benchmark_out: every rank would open (and truncate) the same file.
    if (rank == 0 || !starts_with(argv[i], "--benchmark_out="))
      args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  char** pargs = args.data();
  if (help) {
    // Initialize prints the flags and exits: leave MPI first so mpiexec sees a clean exit.
    MPI_Finalize();
    if (rank == 0)
      benchmark::Initialize(&count, pargs);
    return 0;
  }
  benchmark::Initialize(&count, pargs);
  // Rank 0 names the stray arguments; every rank has the same ones and stops.
  const bool stray = rank == 0 ? benchmark::ReportUnrecognizedArguments(count, pargs) : count > 1;
  if (stray) {
    MPI_Finalize();
    return 2;
  }

  if (PetscInitialize(&count, &pargs, nullptr, nullptr) != 0)
    return 1;
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  try {
    run(PETSC_COMM_WORLD, rank, size);
  } catch (const std::exception& e) {
    // Possibly on this rank alone, while the others wait in a collective: abort them all.
    std::fprintf(stderr, "bilevel_benchmarks: failure on rank %d: %s\n", rank, e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  benchmark::Shutdown();
  PetscFinalize();
  MPI_Finalize();
  return 0;
}
