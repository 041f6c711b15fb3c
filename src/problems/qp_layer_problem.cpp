#include "bilevel/problems/qp_layer_problem.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/record.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bilevel {

SampleSplit SampleSplit::from_options(PetscInt train_default, PetscInt test_default,
                                      const std::string& unit) {
  SampleSplit s{};
  s.train = options::get_int("-problem_train", train_default, 1, 100000000, "training " + unit);
  s.test = options::get_int("-problem_test", test_default, 0, 100000000, "test " + unit);
  s.batch = options::get_int("-problem_batch", 8, 1, 1000000, "minibatch size");
  if (s.batch > s.train)
    throw InputError("-problem_batch " + std::to_string(s.batch) +
                     ": accepted: at most -problem_train (" + std::to_string(s.train) + ")");
  return s;
}

QpLayerProblem::QpLayerProblem(MPI_Comm comm, SampleSplit split) : Problem(comm), split_(split) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (split_.batch < size)
    throw InputError("-problem_batch " + std::to_string(split_.batch) +
                     ": accepted: at least one sample per rank (" + std::to_string(size) +
                     " ranks)");
}

std::vector<int> QpLayerProblem::batch(long long iteration) const {
  const int per_epoch = std::max(1, train_size() / batch_size());
  const long long epoch = iteration / per_epoch;
  const int position = static_cast<int>(iteration % per_epoch);
  // Fisher-Yates driven by a counter generator keyed by the epoch: rank-layout independent.
  std::vector<int> order(static_cast<std::size_t>(train_size()));
  std::iota(order.begin(), order.end(), 0);
  const CounterRng rng(static_cast<std::uint64_t>(permutation_seed()),
                       1000 + static_cast<std::uint64_t>(epoch));
  for (int i = train_size() - 1; i > 0; --i) {
    const int j = static_cast<int>(rng.uniform(static_cast<std::uint64_t>(i)) * (i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  const auto first = order.begin() + static_cast<long>(position) * batch_size();
  return {first, first + batch_size()};
}

void QpLayerProblem::block(int count, int& begin, int& end) const {
  int size = 1, rank = 0;
  MPI_Comm_size(comm(), &size);
  MPI_Comm_rank(comm(), &rank);
  begin = static_cast<int>(static_cast<long long>(count) * rank / size);
  end = static_cast<int>(static_cast<long long>(count) * (rank + 1) / size);
}

void QpLayerProblem::local_block(int& begin, int& end) const {
  block(batch_size(), begin, end);
}

OwnedVec QpLayerProblem::create_x() const {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm(), PETSC_DECIDE, nx(), v.receive()));
  return v;
}

OwnedVec QpLayerProblem::create_y() const {
  int begin = 0, end = 0;
  local_block(begin, end);
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm(), (end - begin) * layer_size(), ny(), v.receive()));
  return v;
}

double QpLayerProblem::sum_over_batch(Vec x, Vec y, const BatchTerm& term) const {
  const Vector model = gather_to_all(x);
  const std::vector<int> samples = current_batch();
  int begin = 0, end = 0;
  local_block(begin, end);
  const PetscScalar* a = nullptr;
  BB_PETSC(VecGetArrayRead(y, &a));
  double local = 0;
  const Eigen::Index n = layer_size();
  for (int k = begin; k < end; ++k)
    local += term(model, samples[static_cast<std::size_t>(k)],
                  Eigen::Map<const Vector>(a + static_cast<Eigen::Index>(k - begin) * n, n));
  BB_PETSC(VecRestoreArrayRead(y, &a));
  logged_allreduce(comm(), &local, 1, MPI_SUM);
  return local;
}

void QpLayerProblem::report_metrics(Vec x, Vec, Record& record) {
  if (split_.test == 0)
    return;
  const auto sums = sum_over_test_solutions(
      gather_to_all(x), 1,
      [&](int sample, const Vector& y, std::vector<double>& out) {
        out[0] += sample_loss(sample, y);
      },
      record);
  record.set("test_loss", sums[0] / static_cast<double>(split_.test));
}

std::vector<double> QpLayerProblem::sum_over_test_solutions(const Vector& model, int width,
                                                            const TestTerm& term,
                                                            Record& record) const {
  const int first = train_size(), count = static_cast<int>(split_.test);
  int begin = 0, end = 0;
  block(count, begin, end);
  const InteriorPointQp ipm({});
  // The term's sums, then the solves that did not reach `solved` and their iterations.
  std::vector<double> sums(static_cast<std::size_t>(width) + 2, 0.0);
  for (int t = begin; t < end; ++t) {
    const QpSolution solution = ipm.solve(sample_qp(model, first + t));
    if (solution.status != QpStatus::kSolved)
      sums[static_cast<std::size_t>(width)] += 1.0;
    sums[static_cast<std::size_t>(width) + 1] += solution.iterations;
    term(first + t, solution.y, sums);
  }
  logged_allreduce(comm(), sums.data(), width + 2, MPI_SUM);
  record.solve("test_qp", sums[static_cast<std::size_t>(width)] == 0.0,
               sums[static_cast<std::size_t>(width) + 1] / count);
  sums.resize(static_cast<std::size_t>(width));
  return sums;
}

void QpLayerProblem::forward_training_batch(Vector&, const std::vector<int>&) {}

DenseQp QpLayerProblem::training_qp(const Vector& model, const std::vector<int>& local,
                                    std::size_t k) const {
  return sample_qp(model, local[k]);
}

void QpLayerProblem::add_training_gradient(const Vector& model, const std::vector<int>& local,
                                           const std::vector<QpLayerGradient>& layers,
                                           Vector& grad) const {
  for (std::size_t k = 0; k < local.size(); ++k)
    add_model_gradient(model, local[k], layers[k], grad);
}

double QpLayerProblem::evaluate_upper_value(Vec x, Vec y) {
  return sum_over_batch(x, y,
                        [this](const Vector&, int sample, const Eigen::Ref<const Vector>& ys) {
                          return sample_loss(sample, ys);
                        }) /
         batch_size();
}

double QpLayerProblem::lower_residual(Vec x, Vec y) {
  return std::sqrt(sum_over_batch(
      x, y, [this](const Vector& model, int sample, const Eigen::Ref<const Vector>& ys) {
        const DenseQp qp = sample_qp(model, sample);
        const Vector y_sample = ys;
        return qp.slack(y_sample).cwiseMin(0.0).squaredNorm() +
               (qp.A.rows() > 0 ? (qp.A * y_sample - qp.b).squaredNorm() : 0.0);
      }));
}

void QpLayerProblem::evaluate_upper_gradient(Vec, Vec y, Vec gx, Vec gy) {
  if (gx)
    BB_PETSC(VecSet(gx, 0.0));
  if (!gy)
    return;
  const std::vector<int> samples = current_batch();
  int begin = 0, end = 0;
  local_block(begin, end);
  const PetscScalar* a = nullptr;
  PetscScalar* g = nullptr;
  BB_PETSC(VecGetArrayRead(y, &a));
  BB_PETSC(VecGetArray(gy, &g));
  const Eigen::Index n = layer_size();
  for (int k = begin; k < end; ++k) {
    const Eigen::Index offset = static_cast<Eigen::Index>(k - begin) * n;
    Eigen::Map<Vector>(g + offset, n) =
        sample_loss_gradient(samples[static_cast<std::size_t>(k)],
                             Eigen::Map<const Vector>(a + offset, n)) /
        batch_size();
  }
  BB_PETSC(VecRestoreArray(gy, &g));
  BB_PETSC(VecRestoreArrayRead(y, &a));
}

} // namespace bilevel
