#pragma once
// A learning problem with a batch of QP layers (the FFO-layer paper's decision-focused learning): a
// model with parameters x maps each sample to the data of a small dense QP, y*_s solves it, and the
// loss is a function of y*_s. The training algorithm (qp_layer) drives it through these hooks;
// the Problem side sees x = the model, y = the current minibatch's QP solutions stacked (each
// rank owns the contiguous block of the batch it solves), f = the minibatch loss.
#include "bilevel/problems/problem.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"

#include <functional>
#include <string>
#include <vector>

namespace bilevel {

/// The samples of a QP-layer problem: a training split cut into minibatches and a test split.
struct SampleSplit {
  PetscInt train, test, batch;
  /// Reads -problem_train, -problem_test, -problem_batch (`unit` names a sample in the help);
  /// a batch larger than the training split is an input error.
  static SampleSplit from_options(PetscInt train_default, PetscInt test_default,
                                  const std::string& unit);
};

class QpLayerProblem : public Problem {
public:
  using Vector = Eigen::VectorXd;
  /// Every batch of layers has the same structure: the constraints live in the layers.
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::layers};
  const ProblemStructure& structure() const override { return kStructure; }
  /// Rejects a batch smaller than the rank count: every rank solves at least one QP.
  QpLayerProblem(MPI_Comm comm, SampleSplit split);

  virtual PetscInt layer_size() const = 0; ///< n, the size of each QP's y
  int batch_size() const { return static_cast<int>(split_.batch); }
  int train_size() const { return static_cast<int>(split_.train); }
  const SampleSplit& split() const { return split_; }
  /// Whether the model needs dl/dG, dl/dA (else dl/dq, dl/dh, dl/db suffice).
  virtual bool needs_matrix_gradients() const { return false; }

  /// The training samples of minibatch `iteration`: epochs of a seeded permutation, cut into
  /// consecutive batches (the same on every rank layout).
  std::vector<int> batch(long long iteration) const;
  /// This rank's contiguous block [begin, end) of positions 0..batch_size()-1.
  void local_block(int& begin, int& end) const;
  /// The minibatch whose loss upper_value reports (set by the algorithm before each step).
  void select_batch(long long iteration) { current_batch_ = iteration; }
  std::vector<int> current_batch() const { return batch(current_batch_); }

  virtual DenseQp sample_qp(const Vector& x, int sample) const = 0;
  virtual double sample_loss(int sample, const Vector& y) const = 0;
  virtual Vector sample_loss_gradient(int sample, const Vector& y) const = 0;
  /// `test_loss`: the mean sample_loss over the test split at y*(x) (nothing without a test
  /// split); a problem with more test metrics overrides it.
  void report_metrics(Vec x, Vec y, Record& record) override;
  /// grad += d(loss)/dx through the model, given the layer's gradient for sample `sample`.
  virtual void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                                  Vector& grad) const = 0;

  // The training minibatch as a whole, for models that couple its samples (BatchNorm normalises
  // by the statistics of the whole minibatch). Every rank calls them together with its own
  // samples `local` (its block of the batch); a per-sample model is the special case, and the
  // defaults call sample_qp and add_model_gradient sample by sample.
  /// The training forward pass over `local` (nothing for a per-sample model). A model with
  /// running statistics updates them in `model` (x carries them; they take no gradient), as a
  /// training forward pass does in PyTorch.
  virtual void forward_training_batch(Vector& model, const std::vector<int>& local);
  /// The QP of local[k] as the last forward_training_batch built it (the QPs are built one at a
  /// time: a minibatch of thousands of dense QPs would not fit in memory at once).
  virtual DenseQp training_qp(const Vector& model, const std::vector<int>& local,
                              std::size_t k) const;
  /// grad += this rank's share of d(minibatch loss)/dx, given layers[k], the layer's gradient
  /// for local[k]; the shares sum over the ranks to the minibatch's gradient.
  virtual void add_training_gradient(const Vector& model, const std::vector<int>& local,
                                     const std::vector<QpLayerGradient>& layers,
                                     Vector& grad) const;

  // The Problem side: y is the minibatch's solutions, f their mean loss.
  PetscInt ny() const override { return batch_size() * layer_size(); }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  /// The minibatch's primal infeasibility: the 2-norm of the violated inequalities (slack < 0)
  /// and of A y - b over every sample's layer.
  double lower_residual(Vec x, Vec y) override;

protected:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  /// grad_x f = 0 (f depends on x only through y*), grad_y f = the per-sample loss gradients.
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;

  virtual long long permutation_seed() const = 0;

  /// Sum over the current minibatch (every rank its block, reduced) of term(model, sample, y_s),
  /// with x gathered to the model and y_s the sample's block of y.
  using BatchTerm =
      std::function<double(const Vector& model, int sample, const Eigen::Ref<const Vector>& y)>;
  double sum_over_batch(Vec x, Vec y, const BatchTerm& term) const;
  /// Sums over the test split (split across the ranks, reduced across comm()) of
  /// term(sample, y*, sums), each adding `width` values (e.g. a loss and an error indicator),
  /// with y* the sample's QP at `model` solved by a default interior point. The solves report as
  /// `test_qp` in `record`, so a test metric computed from an unsolved QP is flagged.
  using TestTerm = std::function<void(int sample, const Vector& y, std::vector<double>& sums)>;
  std::vector<double> sum_over_test_solutions(const Vector& model, int width, const TestTerm& term,
                                              Record& record) const;

private:
  /// This rank's contiguous, balanced block of `count` items.
  void block(int count, int& begin, int& end) const;

  SampleSplit split_;
  long long current_batch_ = 0;
};

} // namespace bilevel
