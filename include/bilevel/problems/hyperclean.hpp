#pragma once
// The PGD-QP paper's data hyper-cleaning on Fashion-MNIST (docs/algorithms.md §7.7):
//   g(x, y) = (1/N_tr) sum_i sigmoid(x_i) CE(a_i' y, b_i) + lambda ||y||^2,
//   f(x, y) = validation CE(y),
// x one weight per training sample (nx = N_tr), y a multinomial model on the 784 pixels or, with
// -problem_pca k, on the top k principal components (plus the bias either way). A fraction
// -problem_corruption of the training labels is corrupted. Samples are partitioned across ranks;
// x and y are replicated. As a finite sum (FiniteSumProblem): g_i = sigmoid(x_i) CE_i(y) +
// lambda ||y||^2 over the training samples, f_j = CE_j(y) over the validation samples. A column
// of grad_x g_i is nx = N_tr long with one nonzero (entry i): a batch of b columns holds b N_tr
// doubles (10 MB for b = 64 at N_tr = 20 000), which a batch affords and a per-sample memory of
// every sample (N_tr^2 doubles) does not.
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/pca.hpp"
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/row_batch.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/problems/softmax_loss.hpp"

#include <optional>

namespace bilevel {

class Hyperclean final : public ReplicatedProblem, public DataSplitSums {
public:
  using Vector = ReplicatedProblem::Vector;
  static constexpr ProblemStructure kStructure{.finite_sum = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    FashionMnistConfig data;
    double lambda;
    int pca; ///< principal components kept; 0 keeps all pixels
    double x0;
    static Config from_options(const RunSpec& run);
  };
  Hyperclean(MPI_Comm comm, Config config);

  std::string name() const override { return "hyperclean"; }
  PetscInt nx() const override { return static_cast<PetscInt>(config_.data.train); }
  PetscInt ny() const override { return features_ * FashionMnist::kClasses; }
  void export_data(hid_t group) const override;
  const FashionMnist& data() const override { return data_; }
  /// The PCA basis of the reduced variant (nullopt for the full one).
  const std::optional<PcaBasis>& pca() const { return pca_; }

  // FiniteSumProblem (DataSplitSums: the training and validation rows). Training sample i's
  // x-derivatives live in x_i alone, and the validation loss does not depend on x.
  XLayout x_layout(SampleRole role) const override {
    return role == SampleRole::lower ? XLayout::one_entry : XLayout::zero;
  }
  void sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                        std::span<const long long> owned, XColumns* gx, Columns* gy) override;
  Columns sample_lower_hess_yy(const Vector& x, const Vector& y, std::span<const long long> owned,
                               const Vector& v) override;
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
  using ConstWeights = Eigen::Map<const WeightMatrix>;
  ConstWeights weights(const Vector& y) const;
  /// This rank's training samples' entries of an nx-vector: x[first_row + i].
  Eigen::VectorXd local_entries(const Vector& x) const;
  /// The nx-vector holding every rank's local training-sample entries.
  Vector gather_samples(const Eigen::VectorXd& local) const;
  /// The reduced (over ranks) sum of a per-rank partial weight matrix, as a y-vector.
  Vector reduce(const WeightMatrix& partial) const;

  Config config_;
  FashionMnist data_;
  std::optional<PcaBasis> pca_;
  /// softmax(X W) of the training rows at the last y's (ProbabilityCache).
  ProbabilityCache train_probabilities_;
  int features_; ///< model inputs including the bias
};

} // namespace bilevel
