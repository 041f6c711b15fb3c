#pragma once
// Minibatch estimates of a finite-sum problem's oracles (problems/finite_sum.hpp), the one way the
// stochastic solvers (docs/algorithms.md, "Stochastic bilevel solvers") reach the data. Every rank
// receives the same batch of global sample indices (MinibatchSampler); each evaluates the samples
// it owns with the problem's per-sample oracles and sums their columns, and one MPI_Allreduce
// combines all the requested sums of the call before they are divided by the batch size. The
// per-sample columns themselves (terms()) are what the variance-reduced methods keep in a
// SampleMemory. Each call counts one oracle call per quantity, touching the batch's samples, in the
// problem's OracleCounts.
#include "bilevel/problems/finite_sum.hpp"
#include "bilevel/problems/problem.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace bilevel {

/// What one evaluation computes: the batches of both sums, the quantities wanted from each, and
/// the vector v of the Hessian products.
struct MinibatchRequest {
  std::span<const long long> lower;   ///< g's samples (global indices, repeats allowed)
  std::span<const long long> upper;   ///< f's samples
  bool lower_grad_x = false;          ///< grad_x g_i
  bool lower_grad_y = false;          ///< grad_y g_i
  bool hess_yy = false;               ///< grad^2_yy g_i v
  bool hess_xy = false;               ///< d_x(grad_y g_i)' v
  bool upper_grad_x = false;          ///< grad_x f_j
  bool upper_grad_y = false;          ///< grad_y f_j
  const Eigen::VectorXd* v = nullptr; ///< needed by hess_yy and hess_xy

  /// The five quantities of SOBA's three directions (grad_y g; grad^2_yy g v + grad_y f;
  /// d_x(grad_y g)' v + grad_x f), which SOBA, SABA and SRBA all sample.
  static MinibatchRequest soba_directions(std::span<const long long> lower,
                                          std::span<const long long> upper,
                                          const Eigen::VectorXd& v) {
    return {.lower = lower,
            .upper = upper,
            .lower_grad_y = true,
            .hess_yy = true,
            .hess_xy = true,
            .upper_grad_x = true,
            .upper_grad_y = true,
            .v = &v};
  }
};

/// The requested quantities, one per field (empty when not requested): per-sample columns of the
/// owned samples (terms(): X the x-derivatives' columns, in the sum's layout; Y dense columns), or
/// minibatch means (means()).
template <class X, class Y> struct MinibatchQuantities {
  X lower_grad_x;
  Y lower_grad_y, hess_yy;
  X hess_xy, upper_grad_x;
  Y upper_grad_y;
};

/// The columns of one evaluation, for the batch's samples this rank owns, in batch order.
struct SampleTerms : MinibatchQuantities<XColumns, Eigen::MatrixXd> {
  std::vector<long long> lower_owned, upper_owned;
};

using MinibatchMeans = MinibatchQuantities<Eigen::VectorXd, Eigen::VectorXd>;

class MinibatchOracles {
public:
  using Vector = Eigen::VectorXd;

  /// `problem` must declare a finite sum (require<FiniteSumProblem>).
  explicit MinibatchOracles(Problem& problem);

  /// The entries of `batch` this rank owns, in batch order.
  std::vector<long long> owned(SampleRole role, std::span<const long long> batch) const;
  /// The per-sample columns of `request` at (x, y) for the owned samples; local, counted.
  SampleTerms terms(const Vector& x, const Vector& y, const MinibatchRequest& request);
  /// The minibatch means of `request` at (x, y): terms() summed, one reduction, divided by the
  /// batch sizes. The same on every rank. The owned samples are evaluated kChunk at a time and
  /// their columns summed in the order of one whole-batch sum (ColumnSum), so that a full batch
  /// costs what its minibatches cost per sample and gives the bits of one giant evaluation.
  MinibatchMeans means(const Vector& x, const Vector& y, const MinibatchRequest& request);

  /// Owned samples per evaluation in means(): a multiple of the softmax kernels' row block (128),
  /// so that a chunk's rows are blocked as the whole batch's are; 256 columns of a
  /// hyper-cleaning model (7 850 doubles) are 16 MB per quantity.
  static constexpr std::size_t kChunk = 256;

  FiniteSumProblem& sums() const { return sums_; }
  MPI_Comm comm() const { return problem_.comm(); }

private:
  /// The columns of `request` for the given owned samples (not counted).
  SampleTerms evaluate(const Vector& x, const Vector& y, const MinibatchRequest& request,
                       std::span<const long long> lower_owned,
                       std::span<const long long> upper_owned);
  /// Counts the oracle calls of one evaluation of `request`.
  void count(const MinibatchRequest& request);

  Problem& problem_;
  FiniteSumProblem& sums_;
};

} // namespace bilevel
