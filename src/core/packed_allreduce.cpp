#include "bilevel/core/packed_allreduce.hpp"

#include "bilevel/core/collective_ledger.hpp"

#include <algorithm>

namespace bilevel {

void PackedAllreduce::reduce() {
  buffer_.clear();
  for (const Eigen::VectorXd& part : parts_)
    buffer_.insert(buffer_.end(), part.data(), part.data() + part.size());
  logged_allreduce(comm_, buffer_.data(), static_cast<int>(buffer_.size()), MPI_SUM);
  auto next = buffer_.cbegin();
  for (Eigen::VectorXd& part : parts_) {
    std::copy_n(next, part.size(), part.data());
    next += part.size();
  }
}

} // namespace bilevel
