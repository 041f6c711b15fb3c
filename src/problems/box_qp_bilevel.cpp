#include "bilevel/problems/box_qp_bilevel.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

#include <cmath>

namespace bilevel {

namespace {
enum Stream : std::uint64_t { kc = 1, kLower, kUpper, kx0 };
} // namespace

BoxQpBilevel::Config BoxQpBilevel::Config::from_options(const RunSpec& run) {
  OptionSection section("problem box_qp_bilevel");
  Config c{};
  c.nx = options::get_int("-problem_nx", 8, 2, 1000000, "hat-function coefficients x (nx >= 2)");
  c.ny = options::get_int("-problem_ny", 2000, 2, 2000000000, "lower-level dimension ny");
  c.shift = options::get_positive("-problem_shift", 0.1, "sigma in H = tridiag(-1, 2 + sigma, -1)");
  c.lower = options::get_real("-problem_lower", -0.5, -1e12, 1e12,
                              "lower bounds: lower_i = value - U[0, 1]/2");
  c.upper = options::get_real("-problem_upper", 0.5, -1e12, 1e12,
                              "upper bounds: upper_i = value + U[0, 1]/2");
  c.r = options::get_real("-problem_r", 0.01, 0.0, 1e12, "upper-level regularisation r");
  c.seed = run.seed;
  return c;
}

BoxQpBilevel::BoxQpBilevel(MPI_Comm comm, Config config) : Problem(comm), config_(config) {
  const PetscInt nx = config_.nx, ny = config_.ny;
  const auto seed = static_cast<std::uint64_t>(config_.seed);
  const CounterRng rng_c(seed, kc), rng_lo(seed, kLower), rng_hi(seed, kUpper);
  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, ny, c_.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(c_, &begin, &end));
  d_ = duplicate(c_);
  lower_ = duplicate(c_);
  upper_ = duplicate(c_);
  q_ = duplicate(c_);
  work_y_ = duplicate(c_);
  BB_PETSC(
      MatCreateAIJ(comm, end - begin, end - begin, ny, ny, 3, nullptr, 2, nullptr, H_.receive()));
  BB_PETSC(
      MatCreateAIJ(comm, end - begin, PETSC_DECIDE, ny, nx, 2, nullptr, 2, nullptr, B_.receive()));
  {
    PetscScalar *pc = nullptr, *pd = nullptr, *plo = nullptr, *phi = nullptr;
    BB_PETSC(VecGetArray(c_, &pc));
    BB_PETSC(VecGetArray(d_, &pd));
    BB_PETSC(VecGetArray(lower_, &plo));
    BB_PETSC(VecGetArray(upper_, &phi));
    const double spacing = 1.0 / static_cast<double>(nx - 1);
    for (PetscInt i = begin; i < end; ++i) {
      const auto k = static_cast<std::uint64_t>(i);
      const double t = (static_cast<double>(i) + 0.5) / static_cast<double>(ny);
      pc[i - begin] = 0.3 * rng_c.normal(k);
      pd[i - begin] = 0.5 * std::sin(2.0 * M_PI * t);
      plo[i - begin] = config_.lower - 0.5 * rng_lo.uniform(k);
      phi[i - begin] = config_.upper + 0.5 * rng_hi.uniform(k);
      BB_PETSC(MatSetValue(H_, i, i, 2.0 + config_.shift, INSERT_VALUES));
      if (i > 0)
        BB_PETSC(MatSetValue(H_, i, i - 1, -1.0, INSERT_VALUES));
      if (i + 1 < ny)
        BB_PETSC(MatSetValue(H_, i, i + 1, -1.0, INSERT_VALUES));
      // The two hat functions whose support contains t: nodes j and j + 1 around it.
      const auto j = std::min(static_cast<PetscInt>(t / spacing), nx - 2);
      const double weight = t / spacing - static_cast<double>(j);
      BB_PETSC(MatSetValue(B_, i, j, 1.0 - weight, INSERT_VALUES));
      BB_PETSC(MatSetValue(B_, i, j + 1, weight, INSERT_VALUES));
    }
    BB_PETSC(VecRestoreArray(upper_, &phi));
    BB_PETSC(VecRestoreArray(lower_, &plo));
    BB_PETSC(VecRestoreArray(d_, &pd));
    BB_PETSC(VecRestoreArray(c_, &pc));
  }
  for (Mat m : {H_.get(), B_.get()}) {
    BB_PETSC(MatAssemblyBegin(m, MAT_FINAL_ASSEMBLY));
    BB_PETSC(MatAssemblyEnd(m, MAT_FINAL_ASSEMBLY));
  }
  BB_PETSC(MatSetOption(H_, MAT_SYMMETRIC, PETSC_TRUE));
  BB_PETSC(MatSetOption(H_, MAT_SPD, PETSC_TRUE));
  lower_set_ = std::make_unique<VectorBox>(lower_, upper_);
}

OwnedVec BoxQpBilevel::create_x() const {
  OwnedVec x;
  BB_PETSC(MatCreateVecs(B_, x.receive(), nullptr));
  return x;
}

OwnedVec BoxQpBilevel::create_y() const {
  return duplicate(c_);
}

void BoxQpBilevel::initial_x(Vec x) const {
  const CounterRng rng(static_cast<std::uint64_t>(config_.seed), kx0);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(x, &begin, &end));
  PetscScalar* px = nullptr;
  BB_PETSC(VecGetArray(x, &px));
  for (PetscInt i = begin; i < end; ++i)
    px[i - begin] = 0.5 * rng.normal(static_cast<std::uint64_t>(i));
  BB_PETSC(VecRestoreArray(x, &px));
}

double BoxQpBilevel::evaluate_upper_value(Vec x, Vec y) {
  BB_PETSC(VecWAXPY(work_y_, -1.0, d_, y));
  PetscReal ry = 0, rx = 0;
  BB_PETSC(VecNorm(work_y_, NORM_2, &ry));
  BB_PETSC(VecNorm(x, NORM_2, &rx));
  return 0.5 * ry * ry / static_cast<double>(config_.ny) + 0.5 * config_.r * rx * rx;
}

void BoxQpBilevel::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx)
    BB_PETSC(VecAXPBY(gx, config_.r, 0.0, x));
  if (gy) {
    BB_PETSC(VecWAXPY(gy, -1.0, d_, y));
    BB_PETSC(VecScale(gy, 1.0 / static_cast<double>(config_.ny)));
  }
}

BoxQp BoxQpBilevel::lower_box_qp(Vec x) {
  BB_PETSC(MatMultAdd(B_, x, c_, q_));
  return {H_, q_, lower_, upper_};
}

double BoxQpBilevel::evaluate_lower_value(Vec x, Vec y) {
  const BoxQp qp = lower_box_qp(x);
  BB_PETSC(MatMult(H_, y, work_y_));
  BB_PETSC(VecAXPBY(work_y_, -1.0, 0.5, qp.q)); // 1/2 Hy - q
  PetscScalar value = 0;
  BB_PETSC(VecDot(y, work_y_, &value));
  return value;
}

void BoxQpBilevel::evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx)
    evaluate_lower_hess_xy(x, y, y, gx); // -B'y
  if (gy)
    box_qp_gradient(lower_box_qp(x), y, gy);
}

void BoxQpBilevel::evaluate_lower_hess_yy(Vec, Vec, Vec v, Vec out) {
  BB_PETSC(MatMult(H_, v, out));
}

void BoxQpBilevel::evaluate_lower_hess_xy(Vec, Vec, Vec v, Vec out_x) {
  BB_PETSC(MatMultTranspose(B_, v, out_x));
  BB_PETSC(VecScale(out_x, -1.0));
}

void BoxQpBilevel::evaluate_lower_hess_yx(Vec, Vec, Vec w, Vec out_y) {
  BB_PETSC(MatMult(B_, w, out_y));
  BB_PETSC(VecScale(out_y, -1.0));
}

double BoxQpBilevel::lower_residual(Vec x, Vec y) {
  const BoxQp qp = lower_box_qp(x);
  box_qp_gradient(qp, y, work_y_);
  return projected_gradient_norm(qp, y, work_y_);
}

void BoxQpBilevel::export_data(hid_t group) const {
  h5::write_vec(group, "c", c_);
  h5::write_vec(group, "d", d_);
  h5::write_vec(group, "lower", lower_);
  h5::write_vec(group, "upper", upper_);
  OwnedVec x0 = create_x();
  initial_x(x0);
  h5::write_vec(group, "x0", x0);
  h5::write_attribute(group, "shift", config_.shift);
  h5::write_attribute(group, "r", config_.r);
}

} // namespace bilevel
