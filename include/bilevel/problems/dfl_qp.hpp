#pragma once
// The FFO-layer paper's synthetic decision-focused learning (docs/algorithms.md §7.17, paper eq.
// 14): true costs c_s ~ U[0,1]^n; features phi_s = tanh(M c_s) + noise * U[0,1]^d (M a fixed
// Gaussian map: the "randomly initialised network of c"); the model q_hat = clamp(net(phi), -10,
// 10) with net the linear map W phi + b, x = (W row-major, b), or (-problem_model mlp) one tanh
// hidden layer of width H, x = (W1, b1, W2, b2) (see Mlp), or (-problem_model batchnorm) the
// paper's predictor, two hidden layers of width H with Linear + BatchNorm + ReLU (see
// BatchNormMlp: in training the minibatch, across the ranks, is normalised together; the test
// split uses the running statistics); each sample's QP has Q = I, q = q_hat, G
// = [I; -I; 1'], h = [0; 1; 3] (2n + 1 inequalities: y in [-1, 0]^n, sum y <= 3); the loss is
// mean(c .* y*). Test metric: the same loss on the test split (QPs solved by the interior-point
// method, split across ranks).
#include "bilevel/problems/batchnorm_mlp.hpp"
#include "bilevel/problems/mlp.hpp"
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

#include <optional>

namespace bilevel {

class DflQp final : public QpLayerProblem {
public:
  struct Config {
    SampleSplit split;
    PetscInt n, features;
    bool batchnorm;  ///< the paper's predictor (BatchNormMlp) instead of Mlp
    PetscInt hidden; ///< width of the hidden layers; 0 = the linear model
    double noise;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  DflQp(MPI_Comm comm, Config config);

  std::string name() const override { return "dfl_qp"; }
  PetscInt nx() const override;
  PetscInt layer_size() const override { return config_.n; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  /// With the BatchNorm predictor, the gradient in evaluation mode (running statistics).
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;
  /// The BatchNorm predictor normalises the minibatch together (collective); the others call the
  /// per-sample hooks.
  void forward_training_batch(Vector& model, const std::vector<int>& local) override;
  DenseQp training_qp(const Vector& model, const std::vector<int>& local,
                      std::size_t k) const override;
  void add_training_gradient(const Vector& model, const std::vector<int>& local,
                             const std::vector<QpLayerGradient>& layers,
                             Vector& grad) const override;

  /// ||y - P_Y(y - grad_y g)|| over the minibatch, P_Y the clip to [-1, 0] (sum y <= 3 never
  /// binds when y <= 0), g built by training_qp (collective).
  double lower_residual(Vec x, Vec y) override;
  /// test_loss: mean loss over the test split at x.
  /// costs, features (sample-major), G, h, x0 and the split and model (docs/result-format.md).
  void export_data(hid_t group) const override;

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  /// net(phi_s) before the clamp (the BatchNorm predictor in evaluation mode).
  Vector prediction(const Vector& x, int sample) const;
  /// The features of `samples`, one column each.
  Eigen::MatrixXd features_of(const std::vector<int>& samples) const;
  /// The QP of a sample whose prediction is `raw` (clamped here).
  DenseQp qp_for(const Vector& raw) const;
  /// Every sample's QP without its q: Q = I, G, h (no equalities).
  DenseQp constraints() const;
  Vector initial_model() const;

  Config config_;
  std::optional<Mlp> net_;                ///< linear or mlp
  std::optional<BatchNormMlp> batchnorm_; ///< batchnorm
  Eigen::MatrixXd training_outputs_;      ///< batchnorm: the last training forward pass's
  Eigen::MatrixXd costs_;                 ///< n x (train + test)
  Eigen::MatrixXd features_;              ///< d x (train + test)
};

} // namespace bilevel
