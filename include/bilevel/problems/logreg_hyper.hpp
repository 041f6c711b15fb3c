#pragma once
// L2-hyperparameter tuning of multinomial logistic regression on Fashion-MNIST:
//   g(x, y) = training CE(y) + sum_j exp(x_j) ||y_j||^2   (y_j: feature j's weights, bias free),
//   f(x, y) = validation CE(y),
// one x per pixel (nx = 784) or one scalar (-problem_reg scalar). Training labels are corrupted
// with probability -problem_corruption. Samples are partitioned across ranks; x and the 7850
// model weights are replicated.
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/softmax_loss.hpp"

namespace bilevel {

class LogregHyper final : public ReplicatedProblem {
public:
  struct Config {
    FashionMnistConfig data;
    bool scalar_reg;
    double x0;
    static Config from_options();
  };
  LogregHyper(MPI_Comm comm, Config config);
  static void declare_options() { (void)Config::from_options(); }

  std::string name() const override { return "logreg_hyper"; }
  PetscInt nx() const override { return config_.scalar_reg ? 1 : FashionMnist::kPixels; }
  PetscInt ny() const override { return kFeatures * FashionMnist::kClasses; }
  void export_data(hid_t group) const override;
  const FashionMnist& data() const { return data_; }

protected:
  Vector initial_x() const override { return Vector::Constant(nx(), config_.x0); }
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void metrics(const Vector& x, const Vector& y, Record& record) override;

private:
  static constexpr int kFeatures = FashionMnist::kPixels + 1;
  /// exp(x_j) for each regularised feature (the bias row gets 0).
  Eigen::VectorXd penalty_weights(const Vector& x) const;
  /// The reduced (over ranks) sum of a per-rank partial weight matrix, as a y-vector.
  Vector reduce(WeightMatrix partial) const;

  Config config_;
  FashionMnist data_;
};

} // namespace bilevel
