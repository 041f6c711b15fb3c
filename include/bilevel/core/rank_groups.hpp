#pragma once
// Splits a communicator into G contiguous groups of ranks, so an algorithm can solve independent
// inner problems (IGFM's +/- delta evaluations, batches of QP layers) side by side, each group
// partitioning its problem's data among its own ranks.
#include <mpi.h>

namespace bilevel {

class RankGroups {
public:
  /// Collective on `parent`. Requires 1 <= groups <= size(parent).
  RankGroups(MPI_Comm parent, int groups);
  ~RankGroups();
  RankGroups(const RankGroups&) = delete;
  RankGroups& operator=(const RankGroups&) = delete;

  int count() const { return groups_; }
  /// The group this rank belongs to, 0 <= index < count().
  int index() const { return index_; }
  /// The communicator of this rank's group.
  MPI_Comm group_comm() const { return group_comm_; }
  /// Work items [0, n) this rank's group owns: a contiguous, balanced block.
  void owned_items(int n, int& begin, int& end) const;

private:
  int groups_;
  int index_;
  MPI_Comm group_comm_ = MPI_COMM_NULL;
};

} // namespace bilevel
