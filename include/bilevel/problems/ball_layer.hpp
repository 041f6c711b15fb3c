#pragma once
// Learning a ball-constrained layer: the layer projects a predicted point onto a ball whose centre
// is learned too, so the constraint itself depends on x (FFOLayer's general convex case with
// h(x, y) nonlinear in y and in x). Per sample features phi_s ~ N(0, I_d); the model is
// x = (W row-major, b, c) with q_hat = W phi + b; the layer is
//   y* = argmin 1/2 ||y||^2 - q_hat'y  s.t.  1/2 ||y - c||^2 <= rho^2 / 2,
// the projection of q_hat onto the ball B(c, rho); targets t_s are the same layer's output at a
// hidden true model (W_true ~ N(0, 4/d), b_true = 0, c_true ~ N(0, 1/4)), so the loss
// 1/2 ||y* - t_s||^2 can reach zero. The ball's data as a quadratic constraint are r = -c,
// s = (rho^2 - ||c||^2) / 2, hence dl/dc = -dl/dr - c dl/ds. Test metric: the loss on the test
// split.
#include "bilevel/problems/mlp.hpp"
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class BallLayer final : public QpLayerProblem {
public:
  struct Config {
    SampleSplit split;
    PetscInt n, features;
    double radius;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  BallLayer(MPI_Comm comm, Config config);

  std::string name() const override { return "ball_layer"; }
  PetscInt nx() const override { return net_.parameters() + config_.n; }
  PetscInt layer_size() const override { return config_.n; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;

  /// test_loss: mean loss over the test split at x.
  /// features, targets (sample-major), the true model, x0 and the split
  /// (docs/result-format.md).
  void export_data(hid_t group) const override;

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  /// The layer at model x = (net, centre) for features phi.
  DenseQp layer(const Vector& x, const Eigen::Ref<const Vector>& phi) const;
  Vector initial_model() const;

  Config config_;
  Mlp net_;
  Eigen::MatrixXd features_; ///< d x (train + test)
  Eigen::MatrixXd targets_;  ///< n x (train + test)
  Vector true_model_;
};

} // namespace bilevel
