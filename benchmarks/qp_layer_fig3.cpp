// bilevel_qp_layer_fig3: the shape of the FFO-layer paper's Fig. 3. For each QP size n (with n
// inequalities, no equalities, Q = I as in the decision-focused-learning layer) a batch of QPs
// is split across the ranks in contiguous blocks; each rank solves its block by the interior
// point method (forward) and runs each oracle's backward pass (kkt, ffoqp, ffo), followed by the
// one MPI_Allreduce a QP layer's model gradient needs. Times are the slowest rank's, medians of
// -reps repetitions, all oracles in the same run (so their ratios are comparable even on a
// loaded machine). The gradients (dl/dq, dl/dh over the whole batch) are compared with kkt's by
// cosine similarity and relative error. Rank 0 writes one JSON file.
//
// ffoqp's backward reuses the factor the forward's polishing step computed on the same active
// rows; "ffoqp_refactor" is the same oracle on solutions stripped of it (what a backward costs
// that factors on its own). The forward is compared with its bound, measured in the same run:
// the flops of the dense factorisations the interior point does over the rate of a 1000 x 1000
// BLAS dgemm run on every rank at once, and the same factorisations timed alone at the QP's size
// ("kernel bound"). The Newton systems of these layers are reduced to the multipliers
// (MultiplierNewton): G G' once, a rank-n update (n m^2), then per Newton matrix (one per
// iteration and the starting point's) the Cholesky factor of G G' + diag(d), m^3/3; finally the
// polishing's active-set factor, with Q = I diagonal n k^2 + k^3/3. The "to-y bound" counts the
// reduction to y instead (per Newton matrix Q + G'WG by a rank-m update, n^2 m, and its Cholesky
// factor, n^3/3), the bound of the interior point before it reduced to the multipliers.
//
//   mpiexec -n N bilevel_qp_layer_fig3 -sizes 100,200,500,1000 -batch 32 -reps 1 -output f.json
#include "bilevel/core/blas_kernels.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/rank_groups.hpp"
#include "bilevel/qp/active_set_factor.hpp"
#include "bilevel/qp/hessian_factor.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/multiplier_newton.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"
#include "bilevel/version.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using bilevel::DenseQp;
using Vector = Eigen::VectorXd;

/// Backward passes timed: the three oracles, and ffoqp without the forward's factor.
const std::vector<std::string> kOracles = {"kkt", "ffoqp", "ffoqp_refactor", "ffo"};

/// Sample s of size n: Q = I, q ~ N(0, 1), G ~ N(0, 1/n) (n rows), h ~ U[0.1, 1], so the
/// unconstrained minimiser -q violates a fraction of the rows; dl/dy = c / batch, c ~ U[0, 1]
/// (the decision-focused loss mean(c .* y)). Indexed by (n, s, entry): any rank layout builds
/// the same batch.
DenseQp sample_qp(long long seed, Eigen::Index n, int s, Vector& dl_dy, int batch) {
  const bilevel::CounterRng rng(static_cast<std::uint64_t>(seed),
                                static_cast<std::uint64_t>(n) * 1000003ULL + s);
  const auto at = [n](int block, Eigen::Index i, Eigen::Index j) {
    return static_cast<std::uint64_t>(block) * static_cast<std::uint64_t>(n * n + n) +
           static_cast<std::uint64_t>(i * n + j);
  };
  DenseQp qp;
  qp.Q = Eigen::MatrixXd::Identity(n, n);
  qp.q.resize(n);
  qp.G.resize(n, n);
  qp.h.resize(n);
  dl_dy.resize(n);
  const double scale = 1.0 / std::sqrt(static_cast<double>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    qp.q[i] = rng.normal(at(0, 0, i));
    qp.h[i] = rng.uniform(at(1, 0, i), 0.1, 1.0);
    dl_dy[i] = rng.uniform(at(2, 0, i)) / batch;
    for (Eigen::Index j = 0; j < n; ++j)
      qp.G(i, j) = scale * rng.normal(at(3, i, j));
  }
  qp.A.resize(0, n);
  qp.b.resize(0);
  return qp;
}

double slowest(MPI_Comm comm, double seconds) {
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
  return seconds;
}

double sum(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM, comm);
  return value;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Wall-clock and CPU seconds, each the slowest rank's. The machine is shared: CPU seconds do
/// not count the time a rank waited for a core, so their ratios hold under load.
struct Seconds {
  double wall = 0, cpu = 0;
};

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Medians over `trials` runs of `kernel` on every rank at once.
template <class Kernel> Seconds collective_seconds(MPI_Comm comm, int trials, Kernel&& kernel) {
  std::vector<double> wall, cpu;
  for (int t = 0; t < trials; ++t) {
    MPI_Barrier(comm);
    const double w0 = MPI_Wtime(), c0 = cpu_now();
    kernel();
    cpu.push_back(slowest(comm, cpu_now() - c0));
    wall.push_back(slowest(comm, MPI_Wtime() - w0));
  }
  return {median(wall), median(cpu)};
}

/// Flops per second (wall, CPU) of one rank's 1000 x 1000 x 1000 dgemm (Eigen hands it to
/// BLAS), all ranks multiplying at once, as the interior point's factorisations run.
Seconds dgemm_rate(MPI_Comm comm) {
  const Eigen::Index n = 1000;
  const Eigen::MatrixXd a = Eigen::MatrixXd::Constant(n, n, 1.0), b = a * 0.5;
  Eigen::MatrixXd c(n, n);
  c.noalias() = a * b; // warm-up
  const Seconds t = collective_seconds(comm, 5, [&] { c.noalias() = a * b; });
  const double flops = 2.0 * static_cast<double>(n * n * n);
  return {flops / t.wall, flops / t.cpu};
}

/// Flops of the factorisations of one forward solve with `newton` Newton matrices, reduced to the
/// multipliers (G G' by a rank-n update once, a Cholesky factor of G G' + diag(d) each) or to y
/// (a rank-m update Q + G'WG and its Cholesky factor each), then the polishing's active-set
/// factor on k rows. Q = I is diagonal, so that factor needs no Cholesky factor of Q:
/// W = Q^{-1/2} C' is a scaling, S = W'W a rank-n update and its LDLT k^3/3.
double forward_flops(double n, double m, double k, int newton, bool to_multipliers) {
  const double once = to_multipliers ? n * m * m : 0.0;
  const double newton_matrix = to_multipliers ? m * m * m / 3.0 : n * n * m + n * n * n / 3.0;
  const double active_factor = n * k * k + k * k * k / 3.0;
  return once + newton * newton_matrix + active_factor;
}

/// The same factorisations timed alone at the size of `qp` (medians of 3 on every rank at
/// once): what the reduction does once, one Newton matrix, and one active-set factor on `rows`.
void time_factorisations(MPI_Comm comm, const DenseQp& qp, const std::vector<Eigen::Index>& rows,
                         bool to_multipliers, Seconds& once, Seconds& newton_matrix,
                         Seconds& active_factor) {
  const Eigen::VectorXd w = Eigen::VectorXd::Constant(qp.G.rows(), 0.5);
  const auto positive_definite = [](const bilevel::HessianFactor& factor) {
    if (!factor.ok())
      throw bilevel::RuntimeFailure("fig3: Newton matrix not positive definite");
  };
  if (to_multipliers) {
    const Eigen::VectorXd q_diagonal = qp.Q.diagonal();
    std::optional<bilevel::MultiplierNewton> reduction;
    once = collective_seconds(comm, 3,
                              [&] { reduction = bilevel::MultiplierNewton::of(qp, &q_diagonal); });
    if (!reduction)
      throw bilevel::RuntimeFailure("fig3: Q not positive definite");
    const Eigen::VectorXd d = w.cwiseInverse();
    Eigen::MatrixXd storage; // reused, as the interior point reuses it
    newton_matrix = collective_seconds(comm, 3, [&] {
      bilevel::HessianFactor factor(reduction->matrix(d, std::move(storage)));
      positive_definite(factor);
      storage = std::move(factor).release_storage();
    });
  } else {
    once = {};
    newton_matrix = collective_seconds(comm, 3, [&] {
      Eigen::MatrixXd H = qp.Q;
      const Eigen::MatrixXd scaled = w.cwiseSqrt().asDiagonal() * qp.G;
      H.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
      positive_definite(bilevel::HessianFactor(std::move(H))); // in place, as the interior point's
    });
  }
  active_factor = collective_seconds(comm, 3, [&] {
    const auto factor = bilevel::ActiveSetFactor::of_qp(qp, rows, nullptr);
    if (!factor.ok())
      throw bilevel::RuntimeFailure("fig3: Q not positive definite");
  });
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 1)
      throw bilevel::InputError("-sizes '" + text + "': accepted: positive integers, commas");
    sizes.push_back(value);
  }
  return sizes;
}

struct Row {
  int n;
  double qps_per_rank; ///< the largest block: per-QP times are batch times over this
  double active_fraction, ipm_iterations;
  Seconds forward;
  bool to_multipliers;     ///< the Newton systems reduced to the multipliers (else to y)
  Seconds flop_bound;      ///< the forward's factorisation flops over the dgemm rate
  Seconds to_y_flop_bound; ///< the same with every Newton system reduced to y
  Seconds kernel_bound;    ///< the forward's factorisations timed alone
  std::map<std::string, Seconds> backward;
  std::map<std::string, double> cosine, relative_error;
};

Row run_size(MPI_Comm comm, int n, int batch, int reps, long long seed,
             const bilevel::RankGroups& ranks, Seconds flop_rate) {
  int begin = 0, end = 0;
  ranks.owned_items(batch, begin, end);
  std::vector<DenseQp> block;
  std::vector<Vector> upstream;
  for (int s = begin; s < end; ++s) {
    Vector dl;
    block.push_back(sample_qp(seed, n, s, dl, batch));
    upstream.push_back(dl);
  }
  const bilevel::InteriorPointQp ipm({});
  Row row{};
  row.n = n;
  row.qps_per_rank = slowest(comm, static_cast<double>(end - begin));
  std::vector<bilevel::QpSolution> solutions;
  row.forward = collective_seconds(comm, reps, [&] { solutions = ipm.solve_batch(block); });
  double active = 0, iterations = 0, flops = 0, to_y_flops = 0;
  Seconds once, newton, factor, kernels;
  // Every sample has the same shape, so the first one's reduction is the block's.
  row.to_multipliers = ipm.reduces_to_multipliers(block.front());
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (solutions[i].status != bilevel::QpStatus::kSolved)
      throw bilevel::RuntimeFailure("fig3: sample QP not solved: " +
                                    bilevel::to_string(solutions[i].status));
    const auto rows = bilevel::active_set(block[i], solutions[i], 1e-8);
    active += static_cast<double>(bilevel::active_by_slack(block[i], solutions[i].y, 1e-8).size());
    iterations += solutions[i].iterations;
    const int factorisations = solutions[i].iterations + 1; // the starting point's too
    const double k = static_cast<double>(rows.size());
    flops += forward_flops(n, n, k, factorisations, row.to_multipliers);
    to_y_flops += forward_flops(n, n, k, factorisations, false);
    if (i == 0) // collective: every rank has at least one QP
      time_factorisations(comm, block[i], rows, row.to_multipliers, once, newton, factor);
    kernels.wall += once.wall + factorisations * newton.wall + factor.wall;
    kernels.cpu += once.cpu + factorisations * newton.cpu + factor.cpu;
  }
  row.active_fraction = sum(comm, active) / (static_cast<double>(batch) * n);
  row.ipm_iterations = sum(comm, iterations) / batch;
  row.flop_bound = {slowest(comm, flops / flop_rate.wall), slowest(comm, flops / flop_rate.cpu)};
  row.to_y_flop_bound = {slowest(comm, to_y_flops / flop_rate.wall),
                         slowest(comm, to_y_flops / flop_rate.cpu)};
  row.kernel_bound = {slowest(comm, kernels.wall), slowest(comm, kernels.cpu)};

  std::map<std::string, std::vector<Vector>> gradients; // per local sample: (dq, dh)
  std::vector<bilevel::QpSolution> unfactored = solutions;
  for (bilevel::QpSolution& solution : unfactored)
    solution.active_factor.reset();
  for (const std::string& name : kOracles) {
    const bool refactor = name == "ffoqp_refactor";
    bilevel::QpLayerOracleConfig config;
    config.oracle = refactor ? "ffoqp" : name;
    const auto oracle = bilevel::make_qp_layer_oracle(config);
    const std::vector<bilevel::QpSolution>& given = refactor ? unfactored : solutions;
    row.backward[name] = collective_seconds(comm, reps, [&] {
      gradients[name].clear();
      Vector model = Vector::Zero(n); // a linear model's gradient: the batch's sum of dl/dq
      for (std::size_t i = 0; i < block.size(); ++i) {
        const auto g = oracle->backward(block[i], given[i], upstream[i], false);
        model += g.dq;
        Vector both(2 * n);
        both << g.dq, g.dh;
        gradients[name].push_back(both);
      }
      MPI_Allreduce(MPI_IN_PLACE, model.data(), n, MPI_DOUBLE, MPI_SUM, comm);
    });
  }
  for (const std::string& name : kOracles) {
    double dot = 0, own = 0, ref = 0, diff = 0;
    for (std::size_t i = 0; i < block.size(); ++i) {
      const Vector& a = gradients[name][i];
      const Vector& k = gradients["kkt"][i];
      dot += a.dot(k);
      own += a.squaredNorm();
      ref += k.squaredNorm();
      diff += (a - k).squaredNorm();
    }
    dot = sum(comm, dot);
    own = sum(comm, own);
    ref = sum(comm, ref);
    diff = sum(comm, diff);
    row.cosine[name] = dot / std::sqrt(own * ref);
    row.relative_error[name] = std::sqrt(diff / ref);
  }
  return row;
}

std::string load_average() {
  double load[3] = {0, 0, 0};
  std::ifstream in("/proc/loadavg");
  in >> load[0] >> load[1] >> load[2];
  std::ostringstream out;
  out << "[" << load[0] << ", " << load[1] << ", " << load[2] << "]";
  return out.str();
}

std::string json_map(const std::map<std::string, double>& m) {
  std::ostringstream out;
  out.precision(17);
  out << "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    out << (first ? "" : ", ") << "\"" << k << "\": " << v;
    first = false;
  }
  out << "}";
  return out.str();
}

/// One clock of a map of Seconds.
std::map<std::string, double> clock_of(const std::map<std::string, Seconds>& m, bool cpu) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : m)
    out[k] = cpu ? v.cpu : v.wall;
  return out;
}

void print_row(const Row& r) {
  const double per = r.qps_per_rank;
  const auto bw = [&](const char* name) { return r.backward.at(name); };
  std::printf(
      "n = %d, %.1f interior-point iterations, %.3f of the rows active, Newton systems "
      "reduced to %s; per QP, wall (CPU) seconds:\n"
      "  forward %.4f (%.4f); flop bound %.4f (%.4f): fraction %.2f (%.2f); kernel bound "
      "%.4f (%.4f): fraction %.2f (%.2f); to-y flop bound %.4f (%.4f): fraction %.2f "
      "(%.2f)\n"
      "  backward kkt %.4f (%.4f), ffoqp %.4f (%.4f), ffoqp_refactor %.4f (%.4f), ffo "
      "%.4f (%.4f)\n"
      "  kkt/ffoqp %.1f (%.1f), kkt/ffoqp_refactor %.1f (%.1f); 1 - cos to kkt: ffoqp "
      "%.1e, ffoqp_refactor %.1e, ffo %.1e\n",
      r.n, r.ipm_iterations, r.active_fraction, r.to_multipliers ? "the multipliers" : "y",
      r.forward.wall / per, r.forward.cpu / per, r.flop_bound.wall / per, r.flop_bound.cpu / per,
      r.flop_bound.wall / r.forward.wall, r.flop_bound.cpu / r.forward.cpu,
      r.kernel_bound.wall / per, r.kernel_bound.cpu / per, r.kernel_bound.wall / r.forward.wall,
      r.kernel_bound.cpu / r.forward.cpu, r.to_y_flop_bound.wall / per, r.to_y_flop_bound.cpu / per,
      r.to_y_flop_bound.wall / r.forward.wall, r.to_y_flop_bound.cpu / r.forward.cpu,
      bw("kkt").wall / per, bw("kkt").cpu / per, bw("ffoqp").wall / per, bw("ffoqp").cpu / per,
      bw("ffoqp_refactor").wall / per, bw("ffoqp_refactor").cpu / per, bw("ffo").wall / per,
      bw("ffo").cpu / per, bw("kkt").wall / bw("ffoqp").wall, bw("kkt").cpu / bw("ffoqp").cpu,
      bw("kkt").wall / bw("ffoqp_refactor").wall, bw("kkt").cpu / bw("ffoqp_refactor").cpu,
      1 - r.cosine.at("ffoqp"), 1 - r.cosine.at("ffoqp_refactor"), 1 - r.cosine.at("ffo"));
  std::fflush(stdout);
}

void run(MPI_Comm comm) {
  const std::string sizes_text =
      bilevel::options::get_string("-sizes", "100,200,500,1000", "QP sizes n (comma-separated)");
  const int batch =
      static_cast<int>(bilevel::options::get_int("-batch", 32, 1, 1000000, "QPs per batch"));
  const int reps = static_cast<int>(
      bilevel::options::get_int("-reps", 1, 1, 1000, "repetitions (median reported)"));
  const long long seed = bilevel::options::get_int("-seed", 0, 0, PETSC_MAX_INT, "data seed");
  const std::string output =
      bilevel::options::get_string("-output", "qp_layer_fig3.json", "JSON result file");
  bilevel::options::reject_unused();
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  if (batch < size)
    throw bilevel::InputError("-batch " + std::to_string(batch) +
                              ": accepted: at least one QP per rank");
  const std::string load = load_average();
  const bilevel::RankGroups ranks(comm, size); // one rank per group: contiguous blocks
  const Seconds flop_rate = dgemm_rate(comm);
  if (rank == 0)
    std::printf("dgemm per rank, %d ranks at once: %.2f GFLOP/s wall, %.2f per CPU second; "
                "load average %s\n",
                size, flop_rate.wall * 1e-9, flop_rate.cpu * 1e-9, load.c_str());
  std::vector<Row> rows;
  for (const int n : parse_sizes(sizes_text)) {
    rows.push_back(run_size(comm, n, batch, reps, seed, ranks, flop_rate));
    if (rank == 0)
      print_row(rows.back());
  }
  if (rank != 0)
    return;
  std::ofstream out(output);
  out.precision(17);
  out << "{\n  \"benchmark\": \"qp_layer_fig3\",\n  \"suite_version\": \"" << bilevel::kSuiteVersion
      << "\",\n  \"git_commit\": \"" << bilevel::kGitCommit << "\",\n  \"nranks\": " << size
      << ",\n  \"load_average\": " << load << ",\n  \"dgemm_flops_per_rank\": " << flop_rate.wall
      << ",\n  \"dgemm_flops_per_rank_cpu\": " << flop_rate.cpu << ",\n  \"batch\": " << batch
      << ",\n  \"reps\": " << reps << ",\n  \"seed\": " << seed << ",\n  \"rows\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << "    {\"n\": " << r.n << ", \"inequalities\": " << r.n
        << ", \"qps_per_rank\": " << r.qps_per_rank << ", \"forward_seconds\": " << r.forward.wall
        << ", \"forward_cpu_seconds\": " << r.forward.cpu
        << ", \"forward_flop_bound_seconds\": " << r.flop_bound.wall
        << ", \"forward_flop_bound_cpu_seconds\": " << r.flop_bound.cpu
        << ", \"forward_kernel_bound_seconds\": " << r.kernel_bound.wall
        << ", \"forward_kernel_bound_cpu_seconds\": " << r.kernel_bound.cpu
        << ", \"newton_reduction\": \"" << (r.to_multipliers ? "multipliers" : "y") << "\""
        << ", \"forward_to_y_flop_bound_seconds\": " << r.to_y_flop_bound.wall
        << ", \"forward_to_y_flop_bound_cpu_seconds\": " << r.to_y_flop_bound.cpu
        << ", \"active_fraction\": " << r.active_fraction
        << ", \"ipm_iterations\": " << r.ipm_iterations
        << ", \"backward_seconds\": " << json_map(clock_of(r.backward, false))
        << ", \"backward_cpu_seconds\": " << json_map(clock_of(r.backward, true))
        << ", \"cosine_to_kkt\": " << json_map(r.cosine)
        << ", \"relative_error_to_kkt\": " << json_map(r.relative_error) << "}"
        << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  if (!out)
    throw bilevel::RuntimeFailure("fig3: cannot write " + output);
}

} // namespace

int main(int argc, char** argv) {
  bilevel::select_blas_kernels(argv); // before MPI: it may re-execute the process
  if (PetscInitialize(&argc, &argv, nullptr, nullptr) != 0)
    return 1;
  int code = 0;
  try {
    run(PETSC_COMM_WORLD);
  } catch (const bilevel::InputError& e) {
    std::fprintf(stderr, "bilevel_qp_layer_fig3: error: %s\n", e.what());
    code = 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bilevel_qp_layer_fig3: failure: %s\n", e.what());
    MPI_Abort(PETSC_COMM_WORLD, 1);
  }
  PetscFinalize();
  return code;
}
