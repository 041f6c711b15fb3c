#pragma once
// Decision-focused portfolio selection through a convex layer with a quadratic risk budget (the
// FFO-layer paper's general convex case): per sample the true expected returns mu_s ~ U[0,1]^n
// and features phi_s = tanh(M mu_s) + noise (decision_samples); the model predicts
// mu_hat = clamp(W phi + b, -10, 10) (x = (W row-major, b)); the layer allocates
//   y* = argmin rho/2 ||y||^2 - mu_hat'y  s.t.  y'Sigma y <= sigma^2,  1'y = 1,  y >= 0,
// (the ridge rho makes it strongly convex and the allocation unique), Sigma = F F' + D a fixed
// factor model (3 factors) and sigma^2 = -problem_risk times the variance of the equal-weight
// portfolio; the loss is the negative realised return -mu_s'y*. Test metric: that loss on the
// test split. y* depends on x only through the layer's linear term, so of the layer's gradient
// the model uses dl/dq alone.
#include "bilevel/problems/mlp.hpp"
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class PortfolioLayer final : public QpLayerProblem {
public:
  struct Config {
    SampleSplit split;
    PetscInt n, features;
    double noise, risk, ridge;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  PortfolioLayer(MPI_Comm comm, Config config);

  std::string name() const override { return "portfolio_layer"; }
  PetscInt nx() const override { return net_.parameters(); }
  PetscInt layer_size() const override { return config_.n; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;

  /// test_loss: mean negative return over the test split at x.
  /// returns, features (sample-major), Sigma, sigma^2, x0 and the split (docs/result-format.md).
  void export_data(hid_t group) const override;

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  Vector prediction(const Vector& x, int sample) const;
  Vector initial_model() const;

  Config config_;
  Mlp net_;
  Eigen::MatrixXd returns_;  ///< n x (train + test)
  Eigen::MatrixXd features_; ///< d x (train + test)
  Eigen::MatrixXd sigma_;    ///< the covariance Sigma
  double budget_ = 0;        ///< sigma^2
};

} // namespace bilevel
