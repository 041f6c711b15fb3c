#include "bilevel/methods/qp_layer_training.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/interrupt.hpp"
#include "bilevel/core/log_events.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/interfaces.hpp"

#include <algorithm>
#include <string>

namespace bilevel {

namespace {
constexpr double kDefaultLearningRate = 1e-3;
}

QpLayerTraining::Config QpLayerTraining::Config::from_options() {
  OptionSection section("algorithm qp_layer");
  Config c{InteriorPointQp::Config::from_options("alg_"), QpLayerOracleConfig::from_options("alg_"),
           ModelOptimizer::Config::from_options(kDefaultLearningRate), ""};
  c.check_oracle = options::get_choice("-alg_check_oracle", "none", {"none", "ffo", "ffoqp", "kkt"},
                                       "also compute each minibatch's gradient with this oracle "
                                       "(same settings otherwise) and record oracle_error, "
                                       "oracle_cosine against it (outside forward/backward time)");
  if (c.check_oracle == "none")
    c.check_oracle.clear();
  return c;
}

QpLayerTraining::QpLayerTraining(Config config)
    : config_(std::move(config)), ipm_(config_.ipm), oracle_(make_qp_layer_oracle(config_.oracle)),
      optimizer_(config_.optimizer) {
  if (!config_.check_oracle.empty()) {
    QpLayerOracleConfig reference = config_.oracle;
    reference.oracle = config_.check_oracle;
    check_oracle_ = make_qp_layer_oracle(reference);
  }
}

void QpLayerTraining::setup(Problem& problem, Vec) {
  problem_ = &require<QpLayerProblem>(problem);
  y_ = problem.create_y();
}

void QpLayerTraining::step(Vec x, Record& record) {
  QpLayerProblem& p = *problem_;
  p.select_batch(iteration_);
  const std::vector<int> samples = p.batch(iteration_);
  int begin = 0, end = 0;
  p.local_block(begin, end);
  Eigen::VectorXd model = gather_to_all(x);
  const Eigen::Index n = p.layer_size(), nx = model.size();
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(nx), reference = Eigen::VectorXd::Zero(nx);
  // Reduced in one allreduce: the model gradient, then loss, IPM iterations, unsolved QPs, the
  // oracle's inner iterations, its inner solves that missed their tolerance and how many it ran.
  enum Sum {
    kLoss,
    kQpIterations,
    kQpFailures,
    kInnerIterations,
    kInnerFailures,
    kInnerSolves,
    kSums
  };
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(nx + kSums);
  double times[2] = {0, 0}; // forward, backward: this rank's
  Eigen::VectorXd y_block(static_cast<Eigen::Index>(end - begin) * n);
  // The model sees the whole minibatch (a collective call: BatchNorm reduces its statistics).
  const std::vector<int> local(samples.begin() + begin, samples.begin() + end);
  double t0 = MPI_Wtime();
  p.forward_training_batch(model, local);
  times[0] += MPI_Wtime() - t0;
  std::vector<QpLayerGradient> layers, references;
  // One collective stop check per sample, as many on every rank (the blocks differ in length
  // by one at most), so a signal ends even a long minibatch within one sample's solves.
  int longest = end - begin;
  MPI_Allreduce(MPI_IN_PLACE, &longest, 1, MPI_INT, MPI_MAX, p.comm());
  for (int k = begin; k < begin + longest; ++k) {
    throw_if_interrupted(p.comm());
    if (k >= end)
      continue;
    const int sample = samples[static_cast<std::size_t>(k)];
    t0 = MPI_Wtime();
    const DenseQp qp = p.training_qp(model, local, static_cast<std::size_t>(k - begin));
    QpSolution solution;
    {
      LogScope scope(log_events().inner_solve);
      solution = ipm_.solve(qp);
    }
    const double t1 = MPI_Wtime();
    y_block.segment(static_cast<Eigen::Index>(k - begin) * n, n) = solution.y;
    sums[nx + kLoss] += p.sample_loss(sample, solution.y);
    sums[nx + kQpIterations] += solution.iterations;
    sums[nx + kQpFailures] += solution.status == QpStatus::kSolved ? 0.0 : 1.0;
    {
      LogScope scope(log_events().hypergradient);
      const Eigen::VectorXd dl = p.sample_loss_gradient(sample, solution.y) / p.batch_size();
      const QpAdjoint adjoint = oracle_->adjoint(qp, solution, dl);
      sums[nx + kInnerIterations] += adjoint.inner_iterations;
      sums[nx + kInnerFailures] += adjoint.inner_converged ? 0.0 : 1.0;
      sums[nx + kInnerSolves] += adjoint.inner_solves;
      layers.push_back(adjoint.gradient(qp, solution, p.needs_matrix_gradients()));
    }
    times[0] += t1 - t0;
    times[1] += MPI_Wtime() - t1;
    if (check_oracle_)
      references.push_back(check_oracle_->backward(
          qp, solution, p.sample_loss_gradient(sample, solution.y) / p.batch_size(),
          p.needs_matrix_gradients()));
  }
  t0 = MPI_Wtime();
  {
    LogScope scope(log_events().hypergradient);
    p.add_training_gradient(model, local, layers, grad);
  }
  times[1] += MPI_Wtime() - t0;
  if (check_oracle_)
    p.add_training_gradient(model, local, references, reference);
  PetscScalar* y = nullptr;
  BB_PETSC(VecGetArray(y_, &y));
  Eigen::Map<Eigen::VectorXd>(y, y_block.size()) = y_block;
  BB_PETSC(VecRestoreArray(y_, &y));
  sums.head(nx) = grad;
  logged_allreduce(p.comm(), sums.data(), static_cast<int>(sums.size()), MPI_SUM);
  logged_allreduce(p.comm(), times, 2, MPI_MAX);
  grad = sums.head(nx);
  record.set("hypergrad_norm", grad.norm());
  if (check_oracle_) {
    logged_allreduce(p.comm(), reference.data(), static_cast<int>(nx), MPI_SUM);
    record.set("oracle_error", (grad - reference).norm() / reference.norm());
    record.set("oracle_cosine", grad.dot(reference) / (grad.norm() * reference.norm()));
  }
  record.set("learning_rate", optimizer_.learning_rate()); // this row's update
  {
    LogScope scope(log_events().outer_step);
    optimizer_.apply(model, grad);
    scatter_owned(model, x);
  }
  const int per_epoch = std::max(1, p.train_size() / p.batch_size());
  record.set("train_loss", sums[nx + kLoss] / p.batch_size());
  record.set("epoch", static_cast<double>(iteration_ + 1) / per_epoch);
  // Every QP of the minibatch, and every inner solve of the oracle, must meet its tolerance for
  // the row's gradient to be trusted; the counts say how many did not.
  // One report for the whole minibatch, which stands for its batch_size solves over all ranks.
  record.solve("qp", sums[nx + kQpFailures] == 0.0, sums[nx + kQpIterations] / p.batch_size(),
               p.batch_size());
  record.set("qp_failures", sums[nx + kQpFailures]);
  if (const std::string inner = oracle_->inner_solver(); !inner.empty()) {
    record.solve(inner, sums[nx + kInnerFailures] == 0.0,
                 sums[nx + kInnerIterations] / p.batch_size(),
                 static_cast<long long>(sums[nx + kInnerSolves]));
    record.set(inner + "_failures", sums[nx + kInnerFailures]);
  }
  record.set("forward_time", times[0]);
  record.set("backward_time", times[1]);
  ++iteration_;
}

void QpLayerTraining::save_state(hid_t group) const {
  Algorithm::save_state(group);
  h5::write_attribute(group, "qp_layer_iteration", iteration_);
  optimizer_.save_state(problem_->comm(), group);
}

void QpLayerTraining::load_state(hid_t group) {
  Algorithm::load_state(group);
  iteration_ = h5::read_int_attribute(group, "qp_layer_iteration");
  optimizer_.load_state(group);
}

} // namespace bilevel
