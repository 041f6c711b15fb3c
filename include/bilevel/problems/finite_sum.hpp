#pragma once
// Problems whose f and g are means over samples, f = (1/m) sum_j f_j and g = (1/n) sum_i g_i,
// offer their oracles per sample, which is what the stochastic solvers (docs/algorithms.md,
// "Stochastic bilevel solvers") are built from. Samples are partitioned across ranks (each rank
// owns a contiguous range of the global indices of each sum, like the data itself); a per-sample
// oracle evaluates the samples this rank owns, one column per sample, and the shared
// MinibatchOracles component (solvers/minibatch_oracles.hpp) turns them into a minibatch mean with
// one reduction. x and y are replicated: the models these sums train are small next to their data.
//
// The x-derivative columns come in the layout the problem declares for each sum (x_layout,
// problems/x_columns.hpp): dense unless a sample's terms touch only an x entry of its own.
//
// A sample's term carries its share of any regulariser, so that the mean over all samples is
// exactly the problem's f or g (for instance g_i = CE_i(y) + sum_j exp(x_j) ||y_j||^2): the
// full-batch oracles of Problem and the mean over every sample agree, which the tests check.
#include "bilevel/problems/x_columns.hpp"

#include <Eigen/Dense>

#include <span>

namespace bilevel {

/// Which sum a sample belongs to: g's (lower, n samples) or f's (upper, m samples).
enum class SampleRole { lower, upper };

/// The contiguous range of a sum's global sample indices this rank owns.
struct SampleRange {
  long long first = 0;
  long long count = 0;
  bool owns(long long index) const { return index >= first && index < first + count; }
};

class FiniteSumProblem {
public:
  using Vector = Eigen::VectorXd;
  using Columns = Eigen::MatrixXd; ///< one column per sample, in the order of the indices given

  virtual ~FiniteSumProblem() = default;

  /// n (lower) or m (upper): the number of terms of the sum, over all ranks.
  virtual long long samples(SampleRole role) const = 0;
  /// The samples of `role` this rank owns; the ranges of all ranks tile [0, samples(role)).
  virtual SampleRange local_samples(SampleRole role) const = 0;
  /// The layout of the sum's x-derivative columns (grad_x, and for the lower sum the cross
  /// derivative): what every XColumns of that sum this problem returns has.
  virtual XLayout x_layout(SampleRole) const { return XLayout::dense; }

  // Per-sample oracles at replicated (x, y), for `owned`: global indices this rank owns (an
  // index may repeat; each occurrence is one column). An output passed as nullptr is not
  // computed. Local: no communication.

  /// Columns grad_x f_j / grad_y f_j (upper) or grad_x g_i / grad_y g_i (lower).
  virtual void sample_gradients(SampleRole role, const Vector& x, const Vector& y,
                                std::span<const long long> owned, XColumns* gx, Columns* gy) = 0;
  /// Columns grad^2_yy g_i(x, y) v.
  virtual Columns sample_lower_hess_yy(const Vector& x, const Vector& y,
                                       std::span<const long long> owned, const Vector& v) = 0;
  /// Columns d_x(grad_y g_i)' v (nx rows): the cross derivative of docs/algorithms.md §1.2.
  virtual XColumns sample_lower_hess_xy(const Vector& x, const Vector& y,
                                        std::span<const long long> owned, const Vector& v) = 0;
};

} // namespace bilevel
