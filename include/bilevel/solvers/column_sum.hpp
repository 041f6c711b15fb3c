#pragma once
// The sum of a sequence of per-sample columns that arrive in blocks, added in exactly the order in
// which Eigen's rowwise().sum() adds the columns of one matrix holding them all. MinibatchOracles
// evaluates a large batch (the full-batch passes of SRBA, VRBO, ...) in blocks of samples, so that
// no ny x batch table is ever built (a hyper-cleaning full pass would hold 20 000 columns of 7 850
// doubles per quantity, 1.3 GB each); summing the blocks in the one-matrix order keeps the means
// bit-identical to those of the whole batch evaluated at once, at any block size.
//
// Eigen 3.4 (PartialReduxEvaluator.h) sums the columns c_0 .. c_{s-1} of a column-major matrix
// packet-wise as c_0, then ((c_i + c_{i+1}) + (c_{i+2} + c_{i+3})) for each i = 1, 5, ... below
// (s - 1) & ~3, then the remaining columns one by one; the rows past the last whole packet are
// summed one column after the other. One-entry columns (problems/x_columns.hpp) are added entry by
// entry in column order, as XColumns::sum does.
#include "bilevel/problems/x_columns.hpp"

#include <Eigen/Dense>

namespace bilevel {

class ColumnSum {
public:
  using Vector = Eigen::VectorXd;

  /// A sum of `total` columns of `rows` entries, to be added in order.
  ColumnSum(Eigen::Index rows, Eigen::Index total);

  /// Adds the next block.cols() columns.
  void add(const Eigen::MatrixXd& block);
  /// The same for x-derivative columns (a sum takes one layout throughout).
  void add(const XColumns& block);

  /// The sum once every column is added (zero without columns).
  const Vector& sum() const;

private:
  /// Adds column c (the next in order) to the rows summed one by one, and to the packet rows
  /// unless it belongs to a group of four, which add_group adds.
  void add_column(const auto& c);
  void add_group(const auto& c0, const auto& c1, const auto& c2, const auto& c3);

  Eigen::Index total_, added_ = 0;
  Eigen::Index packet_rows_; ///< rows Eigen sums packet-wise; the rest go column by column
  Eigen::Index groups_end_;  ///< ((total - 1) & ~3) + 1: columns 1 .. groups_end - 1 go in fours
  Vector sum_;
  Eigen::MatrixXd pending_; ///< a group's first columns when a block ends inside it
  Eigen::Index pending_count_ = 0;
};

} // namespace bilevel
