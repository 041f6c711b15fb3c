#pragma once
// Adapter for problems whose x and y are small enough to hold whole on every rank (toy
// instances, a multinomial model's weights): the subclass writes its oracles on Eigen vectors,
// and this class gathers the distributed Vecs to every rank and writes back each rank's part.
// Data may still be partitioned: a subclass that sums over its local samples reduces across
// comm() itself (sum_over_ranks), so all ranks return the same full-length result.
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/problems/problem.hpp"

#include <Eigen/Dense>

namespace bilevel {

class ReplicatedProblem : public Problem {
public:
  using Vector = Eigen::VectorXd;

  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const final;
  void initial_y(Vec x, Vec y) const final;

  void exact_hypergradient(Vec x, Vec grad, Vec y_star) final;
  void report_metrics(Vec x, Vec y, Record& record) final;

  /// The full vector held by a distributed Vec, on every rank (unchanged Vecs are not
  /// communicated again: see VecGatherer).
  Vector gather(Vec v) const;
  /// Writes this rank's part of `full` into `v`.
  static void scatter(const Vector& full, Vec v);

protected:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) final;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) final;
  double evaluate_lower_value(Vec x, Vec y) final;
  void evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) final;
  void evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out) final;
  void evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) final;
  void evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) final;

  explicit ReplicatedProblem(MPI_Comm comm) : Problem(comm) {}

  virtual Vector initial_x() const = 0;
  virtual Vector initial_y([[maybe_unused]] const Vector& x) const { return Vector::Zero(ny()); }
  virtual double f(const Vector& x, const Vector& y) = 0;
  virtual void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) = 0;
  virtual double g(const Vector& x, const Vector& y) = 0;
  virtual void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) = 0;
  virtual Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) = 0;
  virtual Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) = 0;
  virtual Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) = 0;
  /// Ground truth for problems that have it (structure().exact_hypergradient).
  virtual void exact(const Vector& x, Vector& grad, Vector& y_star);
  virtual void metrics(const Vector& x, const Vector& y, Record& record);

  /// Sums a vector (or scalar) over the ranks of comm(), in place.
  void sum_over_ranks(Vector& v) const;
  double sum_over_ranks(double value) const;

private:
  mutable VecGatherer gatherer_;
};

} // namespace bilevel
