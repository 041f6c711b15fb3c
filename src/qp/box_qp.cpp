#include "bilevel/qp/box_qp.hpp"

#include "bilevel/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bilevel {

std::string to_string(BoxQpStatus status) {
  switch (status) {
  case BoxQpStatus::kConverged:
    return "converged";
  case BoxQpStatus::kNotConverged:
    return "not_converged";
  case BoxQpStatus::kInfeasibleBounds:
    return "infeasible_bounds";
  case BoxQpStatus::kNumericalError:
    return "numerical_error";
  }
  return "unknown";
}

void box_qp_gradient(const BoxQp& qp, Vec y, Vec gradient) {
  BB_PETSC(MatMult(qp.H, y, gradient));
  BB_PETSC(VecAXPY(gradient, -1.0, qp.q));
}

void bound_multipliers(Vec gradient, Vec lambda_lower, Vec lambda_upper) {
  BB_PETSC(VecSet(lambda_lower, 0.0));
  BB_PETSC(VecPointwiseMax(lambda_lower, gradient, lambda_lower)); // max(g, 0)
  BB_PETSC(VecWAXPY(lambda_upper, -1.0, gradient, lambda_lower));  // max(g, 0) - g = max(-g, 0)
}

double projected_gradient_norm(const BoxQp& qp, Vec y, Vec gradient) {
  // One pass over the four vectors and one reduction: solvers evaluate this every step.
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(y, &n));
  const PetscScalar *py = nullptr, *pg = nullptr, *lo = nullptr, *hi = nullptr;
  BB_PETSC(VecGetArrayRead(y, &py));
  BB_PETSC(VecGetArrayRead(gradient, &pg));
  BB_PETSC(VecGetArrayRead(qp.lower, &lo));
  BB_PETSC(VecGetArrayRead(qp.upper, &hi));
  double sum = 0;
  for (PetscInt i = 0; i < n; ++i) {
    const double r = std::clamp(py[i] - pg[i], lo[i], hi[i]) - py[i];
    sum += r * r;
  }
  BB_PETSC(VecRestoreArrayRead(qp.upper, &hi));
  BB_PETSC(VecRestoreArrayRead(qp.lower, &lo));
  BB_PETSC(VecRestoreArrayRead(gradient, &pg));
  BB_PETSC(VecRestoreArrayRead(y, &py));
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(y), &comm));
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, comm);
  return std::sqrt(sum);
}

OwnedIS free_rows(const BoxQp& qp, Vec y, double tau) {
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(y, &begin, &end));
  const PetscScalar *py = nullptr, *lo = nullptr, *hi = nullptr;
  BB_PETSC(VecGetArrayRead(y, &py));
  BB_PETSC(VecGetArrayRead(qp.lower, &lo));
  BB_PETSC(VecGetArrayRead(qp.upper, &hi));
  std::vector<PetscInt> rows;
  for (PetscInt i = 0; i < end - begin; ++i)
    if (py[i] - lo[i] > tau && hi[i] - py[i] > tau)
      rows.push_back(begin + i);
  BB_PETSC(VecRestoreArrayRead(qp.upper, &hi));
  BB_PETSC(VecRestoreArrayRead(qp.lower, &lo));
  BB_PETSC(VecRestoreArrayRead(y, &py));
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(y), &comm));
  OwnedIS is;
  BB_PETSC(ISCreateGeneral(comm, static_cast<PetscInt>(rows.size()), rows.data(), PETSC_COPY_VALUES,
                           is.receive()));
  return is;
}

PetscInt crossed_bounds(const BoxQp& qp) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(qp.lower, &n));
  const PetscScalar *lo = nullptr, *hi = nullptr;
  BB_PETSC(VecGetArrayRead(qp.lower, &lo));
  BB_PETSC(VecGetArrayRead(qp.upper, &hi));
  PetscInt crossed = 0;
  for (PetscInt i = 0; i < n; ++i)
    crossed += lo[i] > hi[i] ? 1 : 0;
  BB_PETSC(VecRestoreArrayRead(qp.upper, &hi));
  BB_PETSC(VecRestoreArrayRead(qp.lower, &lo));
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(qp.lower), &comm));
  MPI_Allreduce(MPI_IN_PLACE, &crossed, 1, MPIU_INT, MPI_SUM, comm);
  return crossed;
}

std::optional<double> begin_box_qp_solve(const BoxQp& qp, Vec y, Vec start) {
  if (crossed_bounds(qp) > 0)
    return std::nullopt;
  BB_PETSC(VecMedian(qp.lower, y, qp.upper, y));
  BB_PETSC(VecCopy(y, start));
  PetscReal q_norm = 0;
  BB_PETSC(VecNorm(qp.q, NORM_2, &q_norm));
  return std::max(q_norm, 1e-300);
}

BoxQpResult finish_box_qp_solve(const BoxQp& qp, Vec y, Vec gradient, Vec start, double scale,
                                double rtol, PetscInt iterations) {
  BoxQpResult result{BoxQpStatus::kNotConverged, iterations, 0.0};
  PetscReal y_norm = 0;
  BB_PETSC(VecNorm(y, NORM_2, &y_norm));
  if (!std::isfinite(y_norm)) {
    BB_PETSC(VecCopy(start, y));
    result.status = BoxQpStatus::kNumericalError;
  }
  BB_PETSC(VecMedian(qp.lower, y, qp.upper, y));
  box_qp_gradient(qp, y, gradient);
  result.projected_gradient = projected_gradient_norm(qp, y, gradient) / scale;
  if (result.status != BoxQpStatus::kNumericalError && result.projected_gradient <= rtol)
    result.status = BoxQpStatus::kConverged;
  return result;
}

} // namespace bilevel
