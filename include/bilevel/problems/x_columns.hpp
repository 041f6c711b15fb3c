#pragma once
// The x-derivatives of a finite sum's samples (grad_x f_j, grad_x g_i and the cross derivative
// d_x(grad_y g_i)' v of problems/finite_sum.hpp), one column of nx entries per sample, in the
// layout the problem declares for that sum. Most sums have dense columns (a shared model's
// hyperparameters: every sample touches every x entry). Some have x entries of their own: in data
// hyper-cleaning x holds one weight per training sample, so sample i's columns have one nonzero,
// at x index i, and a dense nx x batch block would be almost all zeros (20 000 x 64 doubles per
// call, and an nx x n memory table for SABA). The compact layouts keep such columns at O(batch)
// and their sums at O(nx), exactly equal to the dense arithmetic on the same columns.
#include <Eigen/Dense>

#include <span>
#include <vector>

namespace bilevel {

/// How the x-derivative columns of a sum's samples are laid out.
enum class XLayout {
  dense,     ///< any x entry may be nonzero: nx values per sample
  one_entry, ///< a sample's columns are nonzero in one x entry, always the same for that sample
  zero,      ///< the sum does not depend on x
};

class XColumns {
public:
  using Vector = Eigen::VectorXd;

  XColumns() = default;
  /// `columns`: nx x count.
  static XColumns dense(Eigen::MatrixXd columns);
  /// Column k is zero but for entry entries[k], which is values[k].
  static XColumns one_entry(Eigen::Index rows, std::vector<Eigen::Index> entries, Vector values);
  static XColumns zero(Eigen::Index rows, Eigen::Index count);

  XLayout layout() const { return layout_; }
  Eigen::Index rows() const { return rows_; }
  Eigen::Index cols() const { return cols_; }

  /// The columns of a dense layout.
  const Eigen::MatrixXd& dense_columns() const { return dense_; }
  /// The x entry and value of each column of a one-entry layout.
  std::span<const Eigen::Index> entries() const { return entries_; }
  const Vector& values() const { return values_; }

  /// The sum of the columns (rows long; zero without columns), in O(rows + cols) unless dense.
  Vector sum() const;
  /// Column k as a dense vector.
  Vector column(Eigen::Index k) const;
  /// All columns as a dense rows x cols matrix (for tests and small sizes).
  Eigen::MatrixXd to_dense() const;

private:
  XLayout layout_ = XLayout::dense;
  Eigen::Index rows_ = 0, cols_ = 0;
  Eigen::MatrixXd dense_;
  std::vector<Eigen::Index> entries_;
  Vector values_;
};

} // namespace bilevel
