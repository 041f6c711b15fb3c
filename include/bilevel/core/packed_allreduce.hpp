#pragma once
// Several vectors summed over the ranks in one MPI_Allreduce: the stochastic solvers combine all
// the minibatch means of a step (and a variance-reduced memory's updates) at once, so a step
// costs one latency, not one per quantity.
#include <Eigen/Dense>
#include <mpi.h>

#include <functional>
#include <vector>

namespace bilevel {

class PackedAllreduce {
public:
  explicit PackedAllreduce(MPI_Comm comm) : comm_(comm) {}
  /// Registers `v` (kept by reference: it must outlive reduce()) to be summed in place.
  void add(Eigen::VectorXd& v) { parts_.emplace_back(v); }
  /// Sums every registered vector over the ranks, in place, in one reduction.
  void reduce();

private:
  MPI_Comm comm_;
  std::vector<std::reference_wrapper<Eigen::VectorXd>> parts_;
  std::vector<double> buffer_;
};

} // namespace bilevel
