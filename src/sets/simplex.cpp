#include "bilevel/sets/simplex.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace bilevel {

Simplex::Simplex(double total) : total_(total) {
  if (!(total > 0))
    throw InputError("simplex: total " + std::to_string(total) + "; accepted: > 0");
}

std::string Simplex::name() const {
  std::ostringstream out;
  out << "simplex(" << total_ << ")";
  return out.str();
}

namespace {

/// Global sum over the support {u_i > tau} of (u_i, 1): returns {sum u_i, count}.
std::pair<double, double> support_sums(Vec u, double tau) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar* a = nullptr;
  BB_PETSC(VecGetArrayRead(u, &a));
  double sums[2] = {0.0, 0.0};
  for (PetscInt i = 0; i < n; ++i)
    if (a[i] > tau) {
      sums[0] += a[i];
      sums[1] += 1.0;
    }
  BB_PETSC(VecRestoreArrayRead(u, &a));
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(u), &comm));
  logged_allreduce(comm, sums, 2, MPI_SUM);
  return {sums[0], sums[1]};
}

} // namespace

double Simplex::threshold(Vec u) const {
  PetscReal max = 0, min = 0;
  BB_PETSC(VecMax(u, nullptr, &max));
  BB_PETSC(VecMin(u, nullptr, &min));
  // phi(tau) = sum max(u - tau, 0) - total decreases from >= 0 at lo to -total at hi.
  double lo = min - total_, hi = max;
  for (int it = 0; it < 200 && hi - lo > 0; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi)
      break;
    const auto [sum, count] = support_sums(u, mid);
    if (sum - count * mid >= total_)
      lo = mid;
    else
      hi = mid;
  }
  // The support at lo is the projection's support: tau solves sum_S (u_i - tau) = total exactly.
  const auto [sum, count] = support_sums(u, lo);
  return (sum - total_) / count;
}

void Simplex::project(Vec u, Vec out) const {
  const double tau = threshold(u);
  if (u != out)
    BB_PETSC(VecCopy(u, out));
  BB_PETSC(VecShift(out, -tau));
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(out, &n));
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(out, &a));
  for (PetscInt i = 0; i < n; ++i)
    a[i] = std::max(a[i], 0.0);
  BB_PETSC(VecRestoreArray(out, &a));
}

void Simplex::project_jacobian(Vec u, Vec v, Vec out) const {
  const double tau = threshold(u);
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(u, &n));
  const PetscScalar *pu = nullptr, *pv = nullptr;
  BB_PETSC(VecGetArrayRead(u, &pu));
  BB_PETSC(VecGetArrayRead(v, &pv));
  double sums[2] = {0.0, 0.0};
  for (PetscInt i = 0; i < n; ++i)
    if (pu[i] > tau) {
      sums[0] += pv[i];
      sums[1] += 1.0;
    }
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(u), &comm));
  logged_allreduce(comm, sums, 2, MPI_SUM);
  const double mean = sums[0] / sums[1];
  std::vector<double> result(static_cast<std::size_t>(n));
  for (PetscInt i = 0; i < n; ++i)
    result[static_cast<std::size_t>(i)] = pu[i] > tau ? pv[i] - mean : 0.0;
  BB_PETSC(VecRestoreArrayRead(v, &pv));
  BB_PETSC(VecRestoreArrayRead(u, &pu));
  PetscScalar* po = nullptr;
  BB_PETSC(VecGetArray(out, &po));
  std::copy(result.begin(), result.end(), po);
  BB_PETSC(VecRestoreArray(out, &po));
}

void Simplex::active_mask(Vec u, Vec mask) const {
  const double tau = threshold(u);
  if (u != mask)
    BB_PETSC(VecCopy(u, mask));
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(mask, &n));
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(mask, &a));
  for (PetscInt i = 0; i < n; ++i)
    a[i] = a[i] > tau ? 0.0 : 1.0;
  BB_PETSC(VecRestoreArray(mask, &a));
}

} // namespace bilevel
