#include "bilevel/core/rank_groups.hpp"

#include "bilevel/core/error.hpp"

#include <string>

namespace bilevel {

RankGroups::RankGroups(MPI_Comm parent, int groups) : groups_(groups) {
  int rank = 0, size = 1;
  MPI_Comm_rank(parent, &rank);
  MPI_Comm_size(parent, &size);
  if (groups < 1 || groups > size)
    throw InputError("rank groups: " + std::to_string(groups) + " groups requested on " +
                     std::to_string(size) + " ranks; accepted: 1.." + std::to_string(size));
  // Contiguous blocks of ranks, balanced: rank r belongs to group floor(r * G / size).
  index_ = static_cast<int>((static_cast<long long>(rank) * groups) / size);
  MPI_Comm_split(parent, index_, rank, &group_comm_);
}

RankGroups::~RankGroups() {
  if (group_comm_ != MPI_COMM_NULL)
    MPI_Comm_free(&group_comm_);
}

void RankGroups::owned_items(int n, int& begin, int& end) const {
  begin = static_cast<int>((static_cast<long long>(n) * index_) / groups_);
  end = static_cast<int>((static_cast<long long>(n) * (index_ + 1)) / groups_);
}

} // namespace bilevel
