#include "bilevel/problems/quadratic.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace bilevel {

namespace {
// Independent streams of the counter generator, one per piece of data.
enum Stream : std::uint64_t { kHouseholder = 1, kB, kc, kCDiag, kCBand, kd, kx0 };
constexpr PetscInt kMaxExportNy = 4096;
} // namespace

Quadratic::Config Quadratic::Config::from_options(const RunSpec& run) {
  OptionSection section("problem quadratic");
  Config c{};
  c.nx = options::get_int("-problem_nx", 10, 1, 100000000, "upper-level dimension nx");
  c.ny = options::get_int("-problem_ny", 200, 2, 2000000000, "lower-level dimension ny");
  c.cond = options::get_real("-problem_cond", 10.0, 1.0, 1e12, "condition number of Q");
  c.r = options::get_real("-problem_r", 0.1, 0.0, 1e12, "upper-level regularisation r");
  c.seed = run.seed;
  c.inject_nan = options::get_bool("-problem_inject_nan", false,
                                   "corrupt one data entry with NaN after loading (testing)");
  return c;
}

Quadratic::Quadratic(MPI_Comm comm, Config config) : Problem(comm), config_(config) {
  const PetscInt nx = config_.nx, ny = config_.ny;
  const CounterRng rng_w(config_.seed, kHouseholder), rng_b(config_.seed, kB),
      rng_c(config_.seed, kc), rng_cd(config_.seed, kCDiag), rng_cb(config_.seed, kCBand),
      rng_d(config_.seed, kd);

  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, ny, householder_.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(householder_, &begin, &end));
  eigenvalues_ = duplicate(householder_);
  inverse_eigenvalues_ = duplicate(householder_);
  c_ = duplicate(householder_);
  d_ = duplicate(householder_);
  work_y_ = duplicate(householder_);
  residual_ = duplicate(householder_);
  {
    PetscScalar *w = nullptr, *lam = nullptr, *inv = nullptr, *pc = nullptr, *pd = nullptr;
    BB_PETSC(VecGetArray(householder_, &w));
    BB_PETSC(VecGetArray(eigenvalues_, &lam));
    BB_PETSC(VecGetArray(inverse_eigenvalues_, &inv));
    BB_PETSC(VecGetArray(c_, &pc));
    BB_PETSC(VecGetArray(d_, &pd));
    for (PetscInt i = begin; i < end; ++i) {
      const PetscInt k = i - begin;
      w[k] = rng_w.normal(i);
      lam[k] = std::pow(config_.cond, static_cast<double>(i) / static_cast<double>(ny - 1));
      inv[k] = 1.0 / lam[k];
      pc[k] = rng_c.normal(i);
      pd[k] = rng_d.normal(i);
    }
    BB_PETSC(VecRestoreArray(d_, &pd));
    BB_PETSC(VecRestoreArray(c_, &pc));
    BB_PETSC(VecRestoreArray(inverse_eigenvalues_, &inv));
    BB_PETSC(VecRestoreArray(eigenvalues_, &lam));
    BB_PETSC(VecRestoreArray(householder_, &w));
  }
  PetscReal wnorm = 0;
  BB_PETSC(VecNormalize(householder_, &wnorm));

  // B: dense, rows distributed like y, entries N(0, 1/ny) so ||B|| ~ 1 + sqrt(nx/ny) and the
  // hyper-objective's curvature stays O(1) at every size (a fixed outer step works throughout).
  BB_PETSC(MatCreateDense(comm, end - begin, PETSC_DECIDE, ny, nx, nullptr, B_.receive()));
  {
    PetscScalar* b = nullptr;
    PetscInt lda = 0;
    BB_PETSC(MatDenseGetLDA(B_, &lda));
    BB_PETSC(MatDenseGetArrayWrite(B_, &b));
    const double scale = 1.0 / std::sqrt(static_cast<double>(ny));
    for (PetscInt j = 0; j < nx; ++j)
      for (PetscInt i = begin; i < end; ++i)
        b[(i - begin) + j * lda] = scale * rng_b.normal(static_cast<std::uint64_t>(i) * nx + j);
    BB_PETSC(MatDenseRestoreArrayWrite(B_, &b));
  }
  BB_PETSC(MatAssemblyBegin(B_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(B_, MAT_FINAL_ASSEMBLY));

  // C: tridiagonal, diagonal in [1, 2), off-diagonals N(0, 0.3^2).
  BB_PETSC(
      MatCreateAIJ(comm, end - begin, end - begin, ny, ny, 3, nullptr, 2, nullptr, C_.receive()));
  for (PetscInt i = begin; i < end; ++i) {
    BB_PETSC(MatSetValue(C_, i, i, 1.0 + rng_cd.uniform(i), INSERT_VALUES));
    if (i > 0)
      BB_PETSC(MatSetValue(C_, i, i - 1, 0.3 * rng_cb.normal(2 * i), INSERT_VALUES));
    if (i + 1 < ny)
      BB_PETSC(MatSetValue(C_, i, i + 1, 0.3 * rng_cb.normal(2 * i + 1), INSERT_VALUES));
  }
  BB_PETSC(MatAssemblyBegin(C_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(C_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatCreateVecs(B_, work_x_.receive(), nullptr));
  if (config_.inject_nan && begin == 0)
    BB_PETSC(VecSetValue(d_, 0, std::numeric_limits<double>::quiet_NaN(), INSERT_VALUES));
  BB_PETSC(VecAssemblyBegin(d_));
  BB_PETSC(VecAssemblyEnd(d_));
}

OwnedVec Quadratic::create_x() const {
  return duplicate(work_x_);
}
OwnedVec Quadratic::create_y() const {
  return duplicate(work_y_);
}

void Quadratic::initial_x(Vec x) const {
  const CounterRng rng(config_.seed, kx0);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(x, &begin, &end));
  PetscScalar* px = nullptr;
  BB_PETSC(VecGetArray(x, &px));
  for (PetscInt i = begin; i < end; ++i)
    px[i - begin] = rng.normal(i);
  BB_PETSC(VecRestoreArray(x, &px));
}

void Quadratic::apply_reflected_diagonal(Vec scale, Vec v, Vec out) const {
  // H = I - 2 w w' with ||w|| = 1: H v = v - 2 (w'v) w.
  PetscScalar dot = 0;
  BB_PETSC(VecDot(householder_, v, &dot));
  BB_PETSC(VecWAXPY(out, -2.0 * dot, householder_, v));
  BB_PETSC(VecPointwiseMult(out, scale, out));
  BB_PETSC(VecDot(householder_, out, &dot));
  BB_PETSC(VecAXPY(out, -2.0 * dot, householder_));
}

void Quadratic::apply_q_inverse(Vec v, Vec out) const {
  apply_reflected_diagonal(inverse_eigenvalues_, v, out);
}

void Quadratic::residual(Vec y) const {
  BB_PETSC(MatMult(C_, y, residual_));
  BB_PETSC(VecAXPY(residual_, -1.0, d_));
}

double Quadratic::evaluate_upper_value(Vec x, Vec y) {
  residual(y);
  PetscReal rn = 0, xn = 0;
  BB_PETSC(VecNorm(residual_, NORM_2, &rn));
  BB_PETSC(VecNorm(x, NORM_2, &xn));
  return 0.5 * rn * rn + 0.5 * config_.r * xn * xn;
}

void Quadratic::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx) {
    BB_PETSC(VecCopy(x, gx));
    BB_PETSC(VecScale(gx, config_.r));
  }
  if (gy) {
    residual(y);
    BB_PETSC(MatMultTranspose(C_, residual_, gy));
  }
}

double Quadratic::evaluate_lower_value(Vec x, Vec y) {
  // 1/2 y'Qy - y'Bx + c'y = y'(1/2 Qy - Bx + c)
  apply_reflected_diagonal(eigenvalues_, y, work_y_);
  BB_PETSC(VecScale(work_y_, 0.5));
  BB_PETSC(VecAXPY(work_y_, 1.0, c_));
  BB_PETSC(MatMult(B_, x, residual_));
  BB_PETSC(VecAXPY(work_y_, -1.0, residual_));
  PetscScalar value = 0;
  BB_PETSC(VecDot(y, work_y_, &value));
  return value;
}

void Quadratic::evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx) {
    BB_PETSC(MatMultTranspose(B_, y, gx));
    BB_PETSC(VecScale(gx, -1.0));
  }
  if (gy) {
    apply_reflected_diagonal(eigenvalues_, y, gy);
    BB_PETSC(MatMult(B_, x, work_y_));
    BB_PETSC(VecAXPBYPCZ(gy, -1.0, 1.0, 1.0, work_y_, c_));
  }
}

void Quadratic::evaluate_lower_hess_yy(Vec, Vec, Vec v, Vec out) {
  apply_reflected_diagonal(eigenvalues_, v, out);
}

void Quadratic::evaluate_lower_hess_xy(Vec, Vec, Vec v, Vec out_x) {
  BB_PETSC(MatMultTranspose(B_, v, out_x));
  BB_PETSC(VecScale(out_x, -1.0));
}

void Quadratic::evaluate_lower_hess_yx(Vec, Vec, Vec w, Vec out_y) {
  BB_PETSC(MatMult(B_, w, out_y));
  BB_PETSC(VecScale(out_y, -1.0));
}

void Quadratic::exact_hypergradient(Vec x, Vec grad, Vec y_star) {
  OwnedVec y = duplicate(work_y_), rhs = duplicate(work_y_), v = duplicate(work_y_);
  BB_PETSC(MatMult(B_, x, rhs));
  BB_PETSC(VecAXPY(rhs, -1.0, c_));
  apply_q_inverse(rhs, y);
  evaluate_upper_gradient(x, y, nullptr, rhs); // rhs = C'(C y* - d): ground truth, not counted
  apply_q_inverse(rhs, v);
  BB_PETSC(MatMultTranspose(B_, v, grad));
  BB_PETSC(VecAXPY(grad, config_.r, x));
  if (y_star)
    BB_PETSC(VecCopy(y, y_star));
}

namespace {

std::vector<double> gather_all(Vec v) {
  const Eigen::VectorXd all = gather_to_all(v);
  return {all.data(), all.data() + all.size()};
}

/// Row-major dense copy of a distributed matrix, on every rank (export of small instances).
std::vector<double> gather_dense(Mat m) {
  OwnedMat dense;
  BB_PETSC(MatConvert(m, MATDENSE, MAT_INITIAL_MATRIX, dense.receive()));
  PetscInt rows = 0, cols = 0;
  BB_PETSC(MatGetSize(dense, &rows, &cols));
  std::vector<double> out(static_cast<std::size_t>(rows * cols));
  OwnedVec column;
  BB_PETSC(MatCreateVecs(dense, nullptr, column.receive()));
  for (PetscInt j = 0; j < cols; ++j) {
    BB_PETSC(MatGetColumnVector(dense, column, j));
    const auto values = gather_all(column);
    for (PetscInt i = 0; i < rows; ++i)
      out[static_cast<std::size_t>(i * cols + j)] = values[static_cast<std::size_t>(i)];
  }
  return out;
}

} // namespace

void Quadratic::export_data(hid_t group) const {
  const PetscInt ny = config_.ny, nx = config_.nx;
  if (ny > kMaxExportNy)
    throw InputError("-export_problem writes dense matrices: -problem_ny " + std::to_string(ny) +
                     " is too large; accepted: ny <= " + std::to_string(kMaxExportNy));
  const MPI_Comm c = comm();
  // Q = (I - 2ww') L (I - 2ww') = L - 2 w (Lw)' - 2 (Lw) w' + 4 (w'Lw) w w'.
  const auto w = gather_all(householder_), lam = gather_all(eigenvalues_);
  double wlw = 0;
  for (PetscInt k = 0; k < ny; ++k)
    wlw += w[k] * lam[k] * w[k];
  std::vector<double> q(static_cast<std::size_t>(ny * ny));
  for (PetscInt i = 0; i < ny; ++i)
    for (PetscInt j = 0; j < ny; ++j)
      q[static_cast<std::size_t>(i * ny + j)] =
          (i == j ? lam[i] : 0.0) - 2.0 * w[i] * lam[j] * w[j] - 2.0 * lam[i] * w[i] * w[j] +
          4.0 * wlw * w[i] * w[j];
  h5::write_dense(c, group, "Q", q, ny, ny);
  h5::write_dense(c, group, "B", gather_dense(B_), ny, nx);
  h5::write_dense(c, group, "c", gather_all(c_), ny, 0);
  h5::write_dense(c, group, "C", gather_dense(C_), ny, ny);
  h5::write_dense(c, group, "d", gather_all(d_), ny, 0);
  OwnedVec x0 = create_x();
  initial_x(x0);
  h5::write_dense(c, group, "x0", gather_all(x0), nx, 0);
  h5::write_attribute(group, "r", config_.r);
  h5::write_attribute(group, "cond", config_.cond);
}

} // namespace bilevel
