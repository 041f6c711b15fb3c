#include "bilevel/solvers/minibatch_oracles.hpp"

#include "bilevel/core/packed_allreduce.hpp"
#include "bilevel/problems/interfaces.hpp"

#include <stdexcept>

namespace bilevel {

namespace {
Eigen::VectorXd column_sum(const Eigen::MatrixXd& columns) {
  return columns.rowwise().sum();
}
Eigen::VectorXd column_sum(const XColumns& columns) {
  return columns.sum();
}
} // namespace

MinibatchOracles::MinibatchOracles(Problem& problem)
    : problem_(problem), sums_(require<FiniteSumProblem>(problem)) {}

std::vector<long long> MinibatchOracles::owned(SampleRole role,
                                               std::span<const long long> batch) const {
  const SampleRange range = sums_.local_samples(role);
  std::vector<long long> mine;
  for (const long long index : batch)
    if (range.owns(index))
      mine.push_back(index);
  return mine;
}

SampleTerms MinibatchOracles::terms(const Vector& x, const Vector& y,
                                    const MinibatchRequest& request) {
  if ((request.hess_yy || request.hess_xy) && request.v == nullptr)
    throw std::logic_error("MinibatchOracles: a Hessian product needs v");
  OracleCounts& counts = problem_.oracle_counts();
  const auto lower_batch = static_cast<long long>(request.lower.size());
  const auto upper_batch = static_cast<long long>(request.upper.size());
  SampleTerms t;
  if (request.lower_grad_x || request.lower_grad_y || request.hess_yy || request.hess_xy)
    t.lower_owned = owned(SampleRole::lower, request.lower);
  if (request.lower_grad_x || request.lower_grad_y) {
    sums_.sample_gradients(SampleRole::lower, x, y, t.lower_owned,
                           request.lower_grad_x ? &t.lower_grad_x : nullptr,
                           request.lower_grad_y ? &t.lower_grad_y : nullptr);
    counts.add(OracleKind::lower_gradient, lower_batch);
  }
  if (request.hess_yy) {
    t.hess_yy = sums_.sample_lower_hess_yy(x, y, t.lower_owned, *request.v);
    counts.add(OracleKind::hessian_vector, lower_batch);
  }
  if (request.hess_xy) {
    t.hess_xy = sums_.sample_lower_hess_xy(x, y, t.lower_owned, *request.v);
    counts.add(OracleKind::cross_derivative, lower_batch);
  }
  if (request.upper_grad_x || request.upper_grad_y) {
    t.upper_owned = owned(SampleRole::upper, request.upper);
    sums_.sample_gradients(SampleRole::upper, x, y, t.upper_owned,
                           request.upper_grad_x ? &t.upper_grad_x : nullptr,
                           request.upper_grad_y ? &t.upper_grad_y : nullptr);
    counts.add(OracleKind::upper_gradient, upper_batch);
  }
  return t;
}

MinibatchMeans MinibatchOracles::means(const Vector& x, const Vector& y,
                                       const MinibatchRequest& request) {
  const SampleTerms t = terms(x, y, request);
  MinibatchMeans m;
  PackedAllreduce sum(comm());
  // Each requested quantity: its columns summed locally (a rank owning none of the batch gives
  // zeros of the right length), registered for the one reduction. The x-parts are summed in their
  // layout, in O(batch + nx) for the compact ones.
  const auto local_sum = [&](bool wanted, const auto& columns, Eigen::Index rows, Vector& out) {
    if (!wanted)
      return;
    out = columns.cols() > 0 ? column_sum(columns) : Vector::Zero(rows);
    sum.add(out);
  };
  const Eigen::Index nx = problem_.nx(), ny = problem_.ny();
  local_sum(request.lower_grad_x, t.lower_grad_x, nx, m.lower_grad_x);
  local_sum(request.lower_grad_y, t.lower_grad_y, ny, m.lower_grad_y);
  local_sum(request.hess_yy, t.hess_yy, ny, m.hess_yy);
  local_sum(request.hess_xy, t.hess_xy, nx, m.hess_xy);
  local_sum(request.upper_grad_x, t.upper_grad_x, nx, m.upper_grad_x);
  local_sum(request.upper_grad_y, t.upper_grad_y, ny, m.upper_grad_y);
  sum.reduce();
  const auto lower_batch = static_cast<double>(request.lower.size());
  const auto upper_batch = static_cast<double>(request.upper.size());
  for (Vector* lower : {&m.lower_grad_x, &m.lower_grad_y, &m.hess_yy, &m.hess_xy})
    *lower /= lower_batch;
  for (Vector* upper : {&m.upper_grad_x, &m.upper_grad_y})
    *upper /= upper_batch;
  return m;
}

} // namespace bilevel
