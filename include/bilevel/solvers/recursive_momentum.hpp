#pragma once
// The recursive momentum (STORM) estimate of a direction, shared by the stochastic solvers that
// correct their momentum with the same sample at the previous point (FSLA; MRBO and SUSTAIN use
// the same rule): with h(p; xi) a stochastic direction at point p,
//   d_k = h(p_k; xi_k) + (1 - alpha_k) (d_{k-1} - h(p_{k-1}; xi_k)).
// The correction term removes the drift of the old average, so d_k tracks the direction at p_k
// with a variance that shrinks with alpha_k and the step, not with the batch alone.
#include <Eigen/Dense>
#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace bilevel {

class RecursiveMomentum {
public:
  explicit RecursiveMomentum(Eigen::Index dim) : direction_(Eigen::VectorXd::Zero(dim)) {}

  /// d <- now + (1 - alpha)(d - before): `now` and `before` from the same sample at the current
  /// and previous points. alpha = 1 (the first step, no previous point) gives d = now.
  const Eigen::VectorXd& update(const Eigen::VectorXd& now, const Eigen::VectorXd& before,
                                double alpha);
  const Eigen::VectorXd& direction() const { return direction_; }

  /// The direction under `name` in a restart group (replicated: every rank has it).
  void save(MPI_Comm comm, hid_t group, const std::string& name) const;
  void load(hid_t group, const std::string& name);

private:
  Eigen::VectorXd direction_;
};

} // namespace bilevel
