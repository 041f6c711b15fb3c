#include "bilevel/problems/x_columns.hpp"

#include <stdexcept>

namespace bilevel {

XColumns XColumns::dense(Eigen::MatrixXd columns) {
  XColumns c;
  c.layout_ = XLayout::dense;
  c.rows_ = columns.rows();
  c.cols_ = columns.cols();
  c.dense_ = std::move(columns);
  return c;
}

XColumns XColumns::one_entry(Eigen::Index rows, std::vector<Eigen::Index> entries, Vector values) {
  if (static_cast<Eigen::Index>(entries.size()) != values.size())
    throw std::logic_error("XColumns: one entry per value");
  XColumns c;
  c.layout_ = XLayout::one_entry;
  c.rows_ = rows;
  c.cols_ = values.size();
  c.entries_ = std::move(entries);
  c.values_ = std::move(values);
  return c;
}

XColumns XColumns::zero(Eigen::Index rows, Eigen::Index count) {
  XColumns c;
  c.layout_ = XLayout::zero;
  c.rows_ = rows;
  c.cols_ = count;
  return c;
}

XColumns::Vector XColumns::sum() const {
  switch (layout_) {
  case XLayout::dense:
    return cols_ > 0 ? Vector(dense_.rowwise().sum()) : Vector::Zero(rows_);
  case XLayout::one_entry: {
    // Entries in column order, as the dense row sums add them (zeros add exactly).
    Vector s = Vector::Zero(rows_);
    for (Eigen::Index k = 0; k < cols_; ++k)
      s[entries_[static_cast<std::size_t>(k)]] += values_[k];
    return s;
  }
  case XLayout::zero:
    break;
  }
  return Vector::Zero(rows_);
}

XColumns::Vector XColumns::column(Eigen::Index k) const {
  if (layout_ == XLayout::dense)
    return dense_.col(k);
  Vector c = Vector::Zero(rows_);
  if (layout_ == XLayout::one_entry)
    c[entries_[static_cast<std::size_t>(k)]] = values_[k];
  return c;
}

Eigen::MatrixXd XColumns::to_dense() const {
  if (layout_ == XLayout::dense)
    return dense_;
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(rows_, cols_);
  if (layout_ == XLayout::one_entry)
    for (Eigen::Index k = 0; k < cols_; ++k)
      d(entries_[static_cast<std::size_t>(k)], k) = values_[k];
  return d;
}

} // namespace bilevel
