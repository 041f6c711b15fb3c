#include "bilevel/solvers/column_sum.hpp"

#include <stdexcept>

namespace bilevel {

namespace {
/// Doubles per packet of the vectorised partial reductions (1 without vectorisation).
constexpr Eigen::Index kPacket =
    Eigen::internal::packet_traits<double>::Vectorizable
        ? static_cast<Eigen::Index>(Eigen::internal::packet_traits<double>::size)
        : Eigen::Index{1};
} // namespace

ColumnSum::ColumnSum(Eigen::Index rows, Eigen::Index total)
    : total_(total), packet_rows_(rows - rows % kPacket),
      groups_end_(((total - 1) & ~Eigen::Index{3}) + 1), sum_(Vector::Zero(rows)) {}

void ColumnSum::add_column(const auto& c) {
  if (added_ == 0) {
    sum_ = c;
  } else {
    const Eigen::Index tail = sum_.size() - packet_rows_;
    sum_.tail(tail) += c.tail(tail);
    if (added_ >= groups_end_)
      sum_.head(packet_rows_) += c.head(packet_rows_);
  }
  ++added_;
}

void ColumnSum::add_group(const auto& c0, const auto& c1, const auto& c2, const auto& c3) {
  const Eigen::Index n = packet_rows_;
  sum_.head(n) = sum_.head(n) + ((c0.head(n) + c1.head(n)) + (c2.head(n) + c3.head(n)));
}

void ColumnSum::add(const Eigen::MatrixXd& block) {
  if (added_ + block.cols() > total_)
    throw std::logic_error("ColumnSum: more columns than announced");
  Eigen::Index k = 0;
  while (k < block.cols()) {
    const bool grouped = added_ > 0 && added_ < groups_end_;
    if (grouped && pending_count_ == 0 && k + 4 <= block.cols()) {
      // A whole group in this block: its rows past the packets go one by one, as always.
      add_group(block.col(k), block.col(k + 1), block.col(k + 2), block.col(k + 3));
      for (int j = 0; j < 4; ++j)
        add_column(block.col(k + j));
      k += 4;
      continue;
    }
    if (grouped) {
      // A group split between blocks: keep its columns until the fourth arrives.
      if (pending_.cols() == 0)
        pending_.resize(sum_.size(), 3);
      if (pending_count_ < 3) {
        pending_.col(pending_count_++) = block.col(k);
      } else {
        add_group(pending_.col(0), pending_.col(1), pending_.col(2), block.col(k));
        pending_count_ = 0;
      }
    }
    add_column(block.col(k));
    ++k;
  }
}

void ColumnSum::add(const XColumns& block) {
  if (added_ + block.cols() > total_)
    throw std::logic_error("ColumnSum: more columns than announced");
  switch (block.layout()) {
  case XLayout::dense:
    add(block.dense_columns());
    return;
  case XLayout::one_entry:
    for (Eigen::Index k = 0; k < block.cols(); ++k)
      sum_[block.entries()[static_cast<std::size_t>(k)]] += block.values()[k];
    break;
  case XLayout::zero:
    break;
  }
  added_ += block.cols();
}

const ColumnSum::Vector& ColumnSum::sum() const {
  if (added_ != total_)
    throw std::logic_error("ColumnSum: read before every column was added");
  return sum_;
}

} // namespace bilevel
