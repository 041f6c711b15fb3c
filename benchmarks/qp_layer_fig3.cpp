// bilevel_qp_layer_fig3: the shape of the FFO-layer paper's Fig. 3. For each QP size n (with n
// inequalities, no equalities, Q = I as in the decision-focused-learning layer) a batch of QPs
// is split across the ranks in contiguous blocks; each rank solves its block by the interior
// point method (forward) and runs each oracle's backward pass (kkt, ffoqp, ffo), followed by the
// one MPI_Allreduce a QP layer's model gradient needs. Times are the slowest rank's, medians of
// -reps repetitions, all oracles in the same run (so their ratios are comparable even on a
// loaded machine). The gradients (dl/dq, dl/dh over the whole batch) are compared with kkt's by
// cosine similarity and relative error. Rank 0 writes one JSON file.
//
//   mpiexec -n N bilevel_qp_layer_fig3 -sizes 100,200,500,1000 -batch 32 -reps 1 -output f.json
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/rank_groups.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"
#include "bilevel/version.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using bilevel::DenseQp;
using Vector = Eigen::VectorXd;

const std::vector<std::string> kOracles = {"kkt", "ffoqp", "ffo"};

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
  double forward, active_fraction, ipm_iterations;
  std::map<std::string, double> backward, cosine, relative_error;
};

Row run_size(MPI_Comm comm, int n, int batch, int reps, long long seed,
             const bilevel::RankGroups& ranks) {
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
  std::vector<bilevel::QpSolution> solutions;
  std::vector<double> forward;
  for (int r = 0; r < reps; ++r) {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    solutions = ipm.solve_batch(block);
    forward.push_back(slowest(comm, MPI_Wtime() - t0));
  }
  row.forward = median(forward);
  double active = 0, iterations = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (solutions[i].status != bilevel::QpStatus::kSolved)
      throw bilevel::RuntimeFailure("fig3: sample QP not solved: " +
                                    bilevel::to_string(solutions[i].status));
    active += static_cast<double>(bilevel::active_by_slack(block[i], solutions[i].y, 1e-8).size());
    iterations += solutions[i].iterations;
  }
  row.active_fraction = sum(comm, active) / (static_cast<double>(batch) * n);
  row.ipm_iterations = sum(comm, iterations) / batch;

  std::map<std::string, std::vector<Vector>> gradients; // per local sample: (dq, dh)
  for (const std::string& name : kOracles) {
    bilevel::QpLayerOracleConfig config;
    config.oracle = name;
    const auto oracle = bilevel::make_qp_layer_oracle(config);
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
      gradients[name].clear();
      MPI_Barrier(comm);
      const double t0 = MPI_Wtime();
      Vector model = Vector::Zero(n); // a linear model's gradient: the batch's sum of dl/dq
      for (std::size_t i = 0; i < block.size(); ++i) {
        const auto g = oracle->backward(block[i], solutions[i], upstream[i], false);
        model += g.dq;
        Vector both(2 * n);
        both << g.dq, g.dh;
        gradients[name].push_back(both);
      }
      MPI_Allreduce(MPI_IN_PLACE, model.data(), n, MPI_DOUBLE, MPI_SUM, comm);
      times.push_back(slowest(comm, MPI_Wtime() - t0));
    }
    row.backward[name] = median(times);
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
  const bilevel::RankGroups ranks(comm, size); // one rank per group: contiguous blocks
  std::vector<Row> rows;
  for (const int n : parse_sizes(sizes_text)) {
    rows.push_back(run_size(comm, n, batch, reps, seed, ranks));
    if (rank == 0)
      std::printf("n = %5d  forward %.4f s  backward kkt %.4f  ffoqp %.4f  ffo %.4f s  "
                  "(kkt/ffoqp %.2f)  cos ffoqp %.12f  ffo %.12f\n",
                  n, rows.back().forward, rows.back().backward["kkt"],
                  rows.back().backward["ffoqp"], rows.back().backward["ffo"],
                  rows.back().backward["kkt"] / rows.back().backward["ffoqp"],
                  rows.back().cosine["ffoqp"], rows.back().cosine["ffo"]);
  }
  if (rank != 0)
    return;
  std::ofstream out(output);
  out.precision(17);
  out << "{\n  \"benchmark\": \"qp_layer_fig3\",\n  \"suite_version\": \"" << bilevel::kSuiteVersion
      << "\",\n  \"git_commit\": \"" << bilevel::kGitCommit << "\",\n  \"nranks\": " << size
      << ",\n  \"batch\": " << batch << ",\n  \"reps\": " << reps << ",\n  \"seed\": " << seed
      << ",\n  \"rows\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << "    {\"n\": " << r.n << ", \"inequalities\": " << r.n
        << ", \"forward_seconds\": " << r.forward << ", \"active_fraction\": " << r.active_fraction
        << ", \"ipm_iterations\": " << r.ipm_iterations
        << ", \"backward_seconds\": " << json_map(r.backward)
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
