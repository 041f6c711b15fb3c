#pragma once
// Seed 002's synthetic decision-focused learning (ALGORITHMS.md §2, eq. 14), with a linear
// predictor (the paper's MLP is not implemented): true costs c_s ~ U[0,1]^n; features
// phi_s = tanh(M c_s) + noise * U[0,1]^d (M a fixed Gaussian map: the "randomly initialised
// network of c"); the model q_hat = clamp(W phi + b, -10, 10), x = (W row-major, b); each
// sample's QP has Q = I, q = q_hat, G = [I; -I; 1'], h = [0; 1; 3] (2n + 1 inequalities:
// y in [-1, 0]^n, sum y <= 3); the loss is mean(c .* y*). Test metric: the same loss on the
// test split (QPs solved by the interior-point method, split across ranks).
#include "bilevel/problems/qp_layer_problem.hpp"

namespace bilevel {

class DflQp final : public QpLayerProblem {
public:
  struct Config {
    SampleSplit split;
    PetscInt n, features;
    double noise;
    long long seed;
    static Config from_options();
  };
  DflQp(MPI_Comm comm, Config config);
  static void declare_options() { (void)Config::from_options(); }

  std::string name() const override { return "dfl_qp"; }
  PetscInt nx() const override { return config_.n * (config_.features + 1); }
  PetscInt layer_size() const override { return config_.n; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;

  /// ||y - P_Y(y - grad_y g)|| over the minibatch, P_Y the clip to [-1, 0] (sum y <= 3 never
  /// binds when y <= 0).
  double lower_residual(Vec x, Vec y) override;
  /// test_loss: mean loss over the test split at x.
  void report_metrics(Vec x, Vec y, Record& record) override;

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  /// W phi_s + b before the clamp.
  Vector prediction(const Vector& x, int sample) const;

  Config config_;
  Eigen::MatrixXd costs_;    ///< n x (train + test)
  Eigen::MatrixXd features_; ///< d x (train + test)
};

} // namespace bilevel
