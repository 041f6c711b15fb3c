#include "bilevel/problems/replicated_problem.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/replicated_vec.hpp"

namespace bilevel {

namespace {

OwnedVec create_distributed(MPI_Comm comm, PetscInt n) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, n, v.receive()));
  return v;
}

/// Evaluates a replicated gradient `(vx, vy)` into the parts the caller asked for (gx, gy not
/// null), computing only those.
template <class Gradient> void distributed_gradient(Gradient gradient, Vec gx, Vec gy) {
  Eigen::VectorXd vx, vy;
  gradient(gx ? &vx : nullptr, gy ? &vy : nullptr);
  if (gx)
    scatter_owned(vx, gx);
  if (gy)
    scatter_owned(vy, gy);
}

} // namespace

OwnedVec ReplicatedProblem::create_x() const {
  return create_distributed(comm(), nx());
}
OwnedVec ReplicatedProblem::create_y() const {
  return create_distributed(comm(), ny());
}

ReplicatedProblem::Vector ReplicatedProblem::gather(Vec v) const {
  return gatherer_.gather(v);
}

void ReplicatedProblem::scatter(const Vector& full, Vec v) {
  scatter_owned(full, v);
}

void ReplicatedProblem::initial_x(Vec x) const {
  scatter(initial_x(), x);
}

void ReplicatedProblem::initial_y(Vec x, Vec y) const {
  scatter(initial_y(gather(x)), y);
}

double ReplicatedProblem::evaluate_upper_value(Vec x, Vec y) {
  return f(gather(x), gather(y));
}

void ReplicatedProblem::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  distributed_gradient([&](Vector* vx, Vector* vy) { grad_f(gather(x), gather(y), vx, vy); }, gx,
                       gy);
}

double ReplicatedProblem::evaluate_lower_value(Vec x, Vec y) {
  return g(gather(x), gather(y));
}

void ReplicatedProblem::evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  distributed_gradient([&](Vector* vx, Vector* vy) { grad_g(gather(x), gather(y), vx, vy); }, gx,
                       gy);
}

void ReplicatedProblem::evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out) {
  scatter(hess_yy_g(gather(x), gather(y), gather(v)), out);
}

void ReplicatedProblem::evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) {
  scatter(hess_xy_g(gather(x), gather(y), gather(v)), out_x);
}

void ReplicatedProblem::evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) {
  scatter(hess_yx_g(gather(x), gather(y), gather(w)), out_y);
}

void ReplicatedProblem::exact_hypergradient(Vec x, Vec grad, Vec y_star) {
  Vector g_full, y_full;
  exact(gather(x), g_full, y_full);
  scatter(g_full, grad);
  if (y_star)
    scatter(y_full, y_star);
}

void ReplicatedProblem::report_metrics(Vec x, Vec y, Record& record) {
  metrics(gather(x), gather(y), record);
}

void ReplicatedProblem::exact(const Vector&, Vector&, Vector&) {
  Problem::exact_hypergradient(nullptr, nullptr, nullptr);
}

void ReplicatedProblem::metrics(const Vector&, const Vector&, Record&) {}

void ReplicatedProblem::sum_over_ranks(Vector& v) const {
  logged_allreduce(comm(), v.data(), static_cast<int>(v.size()), MPI_SUM);
}

double ReplicatedProblem::sum_over_ranks(double value) const {
  logged_allreduce(comm(), &value, 1, MPI_SUM);
  return value;
}

} // namespace bilevel
