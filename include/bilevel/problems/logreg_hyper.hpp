#pragma once
// L2-hyperparameter tuning of multinomial logistic regression on Fashion-MNIST:
//   g(x, y) = training CE(y) + sum_j exp(x_j) ||y_j||^2   (y_j: feature j's weights, bias free),
//   f(x, y) = validation CE(y),
// one x per pixel (nx = 784) or one scalar (-problem_reg scalar). Training labels are corrupted
// with probability -problem_corruption. Samples are partitioned across ranks; x and the 7850
// model weights are replicated. As a finite sum (FiniteSumProblem): g_i = CE_i(y) + sum_j
// exp(x_j) ||y_j||^2 over the training samples (each carries the whole regulariser, so their
// mean is g) and f_j = CE_j(y) over the validation samples.
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/row_batch.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/problems/softmax_loss.hpp"

namespace bilevel {

/// What differs between the registered variants: name, data sizes, regularisation layout.
struct LogregHyperDefaults {
  std::string name = "logreg_hyper";
  FashionMnistConfig data{};
  bool scalar_reg = false;
};

class LogregHyper : public ReplicatedProblem, public DataSplitSums {
public:
  using Vector = ReplicatedProblem::Vector;
  static constexpr ProblemStructure kStructure{.finite_sum = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    std::string name;
    FashionMnistConfig data;
    bool scalar_reg;
    double x0;
    static Config from_options(const RunSpec& run, const LogregHyperDefaults& defaults = {});
  };
  LogregHyper(MPI_Comm comm, Config config);

  /// The registry name the instance was built under (IGFM rebuilds it on rank groups by name).
  std::string name() const override { return config_.name; }
  PetscInt nx() const override { return config_.scalar_reg ? 1 : FashionMnist::kPixels; }
  PetscInt ny() const override { return kFeatures * FashionMnist::kClasses; }
  void export_data(hid_t group) const override;
  const FashionMnist& data() const override { return data_; }

  // FiniteSumProblem (DataSplitSums: the training and validation rows).
  void sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                        std::span<const long long> owned, XColumns* gx, Columns* gy) override;
  Columns sample_lower_hess_yy(const Vector& x, const Vector& y, std::span<const long long> owned,
                               const Vector& v) override;
  /// The regulariser's cross term, the same column for every sample.
  XColumns sample_lower_hess_xy(const Vector& x, const Vector& y, std::span<const long long> owned,
                                const Vector& v) override;

  /// Keeps the training rows' probabilities of every step of the trajectory (within a memory
  /// budget), so that ITD's reverse sweep computes one product with X fewer per step.
  void expect_lower_trajectory(int points) override;

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
  /// grad_x of the regulariser sum_j exp(x_j) ||y_j||^2: all of grad_x g.
  Vector regulariser_gradient_x(const Vector& x, const Vector& y) const;
  /// 2 exp(x_j) m_j in each row j: the regulariser's y-gradient at W = m, and its Hessian along
  /// a direction m.
  WeightMatrix regulariser_product_y(const Vector& x,
                                     const Eigen::Map<const WeightMatrix>& m) const;
  /// The reduced (over ranks) sum of a per-rank partial weight matrix, as a y-vector.
  Vector reduce(WeightMatrix partial) const;

  Config config_;
  FashionMnist data_;
  /// softmax(X W) of the training rows at the last y's (ProbabilityCache).
  ProbabilityCache train_probabilities_;
};

/// The IGFM paper's hyperparameter-tuning instance (docs/algorithms.md §7.3, paper Section 7.2):
/// logreg_hyper with the paper's defaults (a scalar x, the 40 000 / 20 000 / 10 000 split,
/// corruption 0.1; -problem_corruption p selects the table's column), all still overridable.
class HyperparamLogreg final : public LogregHyper {
public:
  static constexpr ProblemStructure kStructure{.finite_sum = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config : LogregHyper::Config {
    static Config from_options(const RunSpec& run);
  };
  HyperparamLogreg(MPI_Comm comm, Config config) : LogregHyper(comm, std::move(config)) {}
};

} // namespace bilevel
