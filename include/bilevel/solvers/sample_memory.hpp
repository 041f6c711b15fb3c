#pragma once
// The per-sample memory of the SAGA-type variance-reduced solvers (SABA; docs/algorithms.md,
// "Stochastic bilevel solvers"): for one per-sample term (grad_y g_i, grad^2_yy g_i v, ...) the
// last value computed for each sample, and their mean over all n samples. The table is
// distributed like the data (each rank holds its own samples' columns, O(n dim / ranks)); the mean
// is replicated and kept the same on every rank by reducing each batch's changes to it. For a
// batch B of size b (indices may repeat) the estimate is
//   D = (1/b) sum_{k in B} (term_k - memory_k) + mean(memory),
// after which memory_i <- term_i for every i in B and the mean follows. A step is split in two
// so that all the memories of a step share one reduction: stage() computes this rank's sums, the
// caller reduces them (PackedAllreduce), finish() returns D and moves the mean.
//
// A memory of x-derivative terms keeps the sum's layout (problems/x_columns.hpp): a one-entry
// sum's table is one value and its x index per sample (O(n), not O(n nx)), a zero sum's is
// empty; the direction and mean stay dense nx vectors, and the arithmetic on the one nonzero
// entry is the dense table's, so both give the same bits.
#include "bilevel/problems/finite_sum.hpp"

#include <Eigen/Dense>
#include <hdf5.h>
#include <mpi.h>

#include <span>
#include <string>
#include <vector>

namespace bilevel {

class SampleMemory {
public:
  using Vector = Eigen::VectorXd;

  /// This rank's part of a step, to be summed over the ranks before finish().
  struct Staged {
    Vector direction;   ///< sum over the batch's owned entries of term - memory
    Vector mean_change; ///< (1/n) sum over the distinct owned samples of term - memory
  };

  /// A zero memory (the reference benchmark's default start) of `dim`-vectors for the samples
  /// `owned` of a sum of `samples` terms, whose columns come in `layout`.
  SampleMemory(SampleRange owned, long long samples, Eigen::Index dim,
               XLayout layout = XLayout::dense);

  /// This rank's sums for a batch whose owned entries are `owned` with columns `terms`; stores the
  /// terms in the table.
  Staged stage(std::span<const long long> owned, const Eigen::MatrixXd& terms);
  /// The same for x-derivative columns, which must come in the memory's layout.
  Staged stage(std::span<const long long> owned, const XColumns& terms);
  /// The estimate D from the reduced sums of a batch of `batch_size`, and the mean moved to the
  /// new table's.
  Vector finish(const Staged& reduced, long long batch_size);

  const Vector& mean() const { return mean_; }

  /// Writes the table (collectively, in global sample order) and the mean under `name`.
  void save(MPI_Comm comm, hid_t group, const std::string& name) const;
  void load(MPI_Comm comm, hid_t group, const std::string& name);

private:
  /// The column of owned entry k of a batch, with a check that this rank owns it.
  Eigen::Index table_column(std::span<const long long> owned, std::size_t k) const;
  Staged stage_one_entry(std::span<const long long> owned, const XColumns& terms);
  /// Whether owned entry k is the first occurrence of its sample in the batch (a repeat counts
  /// twice in the direction but replaces its memory once).
  static bool first_occurrence(std::span<const long long> owned, std::size_t k);

  SampleRange owned_;
  long long samples_;
  XLayout layout_;
  Eigen::MatrixXd table_;             ///< dense: dim x owned count
  std::vector<Eigen::Index> entries_; ///< one_entry: each owned sample's x index (-1: unset)
  Vector values_;                     ///< one_entry: its value
  Vector mean_;
};

} // namespace bilevel
