#include "bilevel/solvers/minibatch_oracles.hpp"

#include "bilevel/core/packed_allreduce.hpp"
#include "bilevel/problems/interfaces.hpp"
#include "bilevel/solvers/column_sum.hpp"

#include <algorithm>
#include <stdexcept>

namespace bilevel {

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

namespace {
bool wants_lower(const MinibatchRequest& r) {
  return r.lower_grad_x || r.lower_grad_y || r.hess_yy || r.hess_xy;
}
bool wants_upper(const MinibatchRequest& r) {
  return r.upper_grad_x || r.upper_grad_y;
}
} // namespace

void MinibatchOracles::count(const MinibatchRequest& request) {
  OracleCounts& counts = problem_.oracle_counts();
  const auto lower_batch = static_cast<long long>(request.lower.size());
  const auto upper_batch = static_cast<long long>(request.upper.size());
  if (request.lower_grad_x || request.lower_grad_y)
    counts.add(OracleKind::lower_gradient, lower_batch);
  if (request.hess_yy)
    counts.add(OracleKind::hessian_vector, lower_batch);
  if (request.hess_xy)
    counts.add(OracleKind::cross_derivative, lower_batch);
  if (wants_upper(request))
    counts.add(OracleKind::upper_gradient, upper_batch);
}

SampleTerms MinibatchOracles::evaluate(const Vector& x, const Vector& y,
                                       const MinibatchRequest& request,
                                       std::span<const long long> lower_owned,
                                       std::span<const long long> upper_owned) {
  SampleTerms t;
  if (request.lower_grad_x || request.lower_grad_y)
    sums_.sample_gradients(SampleRole::lower, x, y, lower_owned,
                           request.lower_grad_x ? &t.lower_grad_x : nullptr,
                           request.lower_grad_y ? &t.lower_grad_y : nullptr);
  if (request.hess_yy)
    t.hess_yy = sums_.sample_lower_hess_yy(x, y, lower_owned, *request.v);
  if (request.hess_xy)
    t.hess_xy = sums_.sample_lower_hess_xy(x, y, lower_owned, *request.v);
  if (wants_upper(request))
    sums_.sample_gradients(SampleRole::upper, x, y, upper_owned,
                           request.upper_grad_x ? &t.upper_grad_x : nullptr,
                           request.upper_grad_y ? &t.upper_grad_y : nullptr);
  return t;
}

SampleTerms MinibatchOracles::terms(const Vector& x, const Vector& y,
                                    const MinibatchRequest& request) {
  if ((request.hess_yy || request.hess_xy) && request.v == nullptr)
    throw std::logic_error("MinibatchOracles: a Hessian product needs v");
  std::vector<long long> lower_owned, upper_owned;
  if (wants_lower(request))
    lower_owned = owned(SampleRole::lower, request.lower);
  if (wants_upper(request))
    upper_owned = owned(SampleRole::upper, request.upper);
  SampleTerms t = evaluate(x, y, request, lower_owned, upper_owned);
  count(request);
  t.lower_owned = std::move(lower_owned);
  t.upper_owned = std::move(upper_owned);
  return t;
}

MinibatchMeans MinibatchOracles::means(const Vector& x, const Vector& y,
                                       const MinibatchRequest& request) {
  if ((request.hess_yy || request.hess_xy) && request.v == nullptr)
    throw std::logic_error("MinibatchOracles: a Hessian product needs v");
  const std::vector<long long> lower_owned =
      wants_lower(request) ? owned(SampleRole::lower, request.lower) : std::vector<long long>{};
  const std::vector<long long> upper_owned =
      wants_upper(request) ? owned(SampleRole::upper, request.upper) : std::vector<long long>{};
  const Eigen::Index nx = problem_.nx(), ny = problem_.ny();
  const auto lower_count = static_cast<Eigen::Index>(lower_owned.size());
  const auto upper_count = static_cast<Eigen::Index>(upper_owned.size());
  ColumnSum lower_grad_x(nx, lower_count), lower_grad_y(ny, lower_count), hess_yy(ny, lower_count),
      hess_xy(nx, lower_count), upper_grad_x(nx, upper_count), upper_grad_y(ny, upper_count);
  // The chunks of both sums side by side: a rank owning none of a batch adds no column, and its
  // sums stay zeros of the right length.
  const std::size_t chunks =
      (std::max(lower_owned.size(), upper_owned.size()) + kChunk - 1) / kChunk;
  const auto chunk = [](const std::vector<long long>& all, std::size_t c) {
    const std::size_t first = std::min(all.size(), c * kChunk);
    return std::span<const long long>(all).subspan(first, std::min(kChunk, all.size() - first));
  };
  for (std::size_t c = 0; c < chunks; ++c) {
    const SampleTerms t = evaluate(x, y, request, chunk(lower_owned, c), chunk(upper_owned, c));
    if (request.lower_grad_x)
      lower_grad_x.add(t.lower_grad_x);
    if (request.lower_grad_y)
      lower_grad_y.add(t.lower_grad_y);
    if (request.hess_yy)
      hess_yy.add(t.hess_yy);
    if (request.hess_xy)
      hess_xy.add(t.hess_xy);
    if (request.upper_grad_x)
      upper_grad_x.add(t.upper_grad_x);
    if (request.upper_grad_y)
      upper_grad_y.add(t.upper_grad_y);
  }
  count(request);
  MinibatchMeans m;
  PackedAllreduce sum(comm());
  const auto requested = [&](bool wanted, const ColumnSum& local, Vector& out) {
    if (!wanted)
      return;
    out = local.sum();
    sum.add(out);
  };
  requested(request.lower_grad_x, lower_grad_x, m.lower_grad_x);
  requested(request.lower_grad_y, lower_grad_y, m.lower_grad_y);
  requested(request.hess_yy, hess_yy, m.hess_yy);
  requested(request.hess_xy, hess_xy, m.hess_xy);
  requested(request.upper_grad_x, upper_grad_x, m.upper_grad_x);
  requested(request.upper_grad_y, upper_grad_y, m.upper_grad_y);
  sum.reduce(); // every quantity's sums in one reduction
  const auto lower_batch = static_cast<double>(request.lower.size());
  const auto upper_batch = static_cast<double>(request.upper.size());
  for (Vector* lower : {&m.lower_grad_x, &m.lower_grad_y, &m.hess_yy, &m.hess_xy})
    *lower /= lower_batch;
  for (Vector* upper : {&m.upper_grad_x, &m.upper_grad_y})
    *upper /= upper_batch;
  return m;
}

} // namespace bilevel
