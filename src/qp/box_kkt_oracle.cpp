#include "bilevel/qp/box_kkt_oracle.hpp"

#include "bilevel/core/error.hpp"

#include <Eigen/Dense>

#include <cmath>

namespace bilevel {

namespace {

/// Read access to this rank's entries of a Vec for the duration of a scope.
class ReadArray {
public:
  explicit ReadArray(Vec v) : v_(v) { BB_PETSC(VecGetArrayRead(v_, &data_)); }
  ~ReadArray() { (void)VecRestoreArrayRead(v_, &data_); }
  ReadArray(const ReadArray&) = delete;
  ReadArray& operator=(const ReadArray&) = delete;
  double operator[](PetscInt i) const { return data_[i]; }

private:
  Vec v_;
  const PetscScalar* data_ = nullptr;
};

class WriteArray {
public:
  explicit WriteArray(Vec v) : v_(v) { BB_PETSC(VecGetArray(v_, &data_)); }
  ~WriteArray() { (void)VecRestoreArray(v_, &data_); }
  WriteArray(const WriteArray&) = delete;
  WriteArray& operator=(const WriteArray&) = delete;
  PetscScalar& operator[](PetscInt i) { return data_[i]; }

private:
  Vec v_;
  PetscScalar* data_ = nullptr;
};

PetscInt local_size(Vec v) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(v, &n));
  return n;
}

} // namespace

BoxKktOracle::BoxKktOracle(Vec y_model, double rtol, const std::string& prefix)
    : ay_(duplicate(y_model)), hay_(duplicate(y_model)), lambda_l_(duplicate(y_model)),
      lambda_u_(duplicate(y_model)), s_l_(duplicate(y_model)), s_u_(duplicate(y_model)) {
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(y_model), &comm));
  PetscInt n = 0;
  BB_PETSC(VecGetSize(y_model, &n));
  BB_PETSC(VecCreateMPI(comm, 3 * local_size(y_model), 3 * n, z_.receive()));
  BB_PETSC(VecSet(z_, 0.0));
  rhs_ = duplicate(z_);
  a_ = duplicate(z_);
  solver_ = std::make_unique<OperatorSolver>(comm, z_, prefix, KSPGMRES, rtol);
}

void BoxKktOracle::precondition(Vec in, Vec out) const {
  const PetscInt n = local_size(ay_);
  const ReadArray r(in);
  WriteArray o(out);
  for (PetscInt i = 0; i < n; ++i) {
    const double* m = &blocks_[static_cast<std::size_t>(9 * i)];
    const double r0 = r[3 * i], r1 = r[3 * i + 1], r2 = r[3 * i + 2];
    o[3 * i] = m[0] * r0 + m[1] * r1 + m[2] * r2;
    o[3 * i + 1] = m[3] * r0 + m[4] * r1 + m[5] * r2;
    o[3 * i + 2] = m[6] * r0 + m[7] * r1 + m[8] * r2;
  }
}

void BoxKktOracle::apply_transposed_jacobian(Mat H, Vec in, Vec out) {
  const PetscInt n = local_size(ay_);
  {
    const ReadArray r(in);
    WriteArray ay(ay_);
    for (PetscInt i = 0; i < n; ++i)
      ay[i] = r[3 * i];
  }
  BB_PETSC(MatMult(H, ay_, hay_));
  const ReadArray r(in), hay(hay_), ll(lambda_l_), lu(lambda_u_), sl(s_l_), su(s_u_);
  WriteArray o(out);
  for (PetscInt i = 0; i < n; ++i) {
    const double ay = r[3 * i], al = r[3 * i + 1], au = r[3 * i + 2];
    o[3 * i] = hay[i] + ll[i] * al - lu[i] * au;
    o[3 * i + 1] = -ay + sl[i] * al;
    o[3 * i + 2] = ay + su[i] * au;
  }
}

BoxQpOracle::Outcome BoxKktOracle::adjoint(const BoxQp& qp, Vec y, Vec gradient, Vec dl_dy, Vec w) {
  bound_multipliers(gradient, lambda_l_, lambda_u_);
  BB_PETSC(VecWAXPY(s_l_, -1.0, qp.lower, y));
  BB_PETSC(VecWAXPY(s_u_, -1.0, y, qp.upper));
  const PetscInt n = local_size(y);
  Vec diagonal = hay_; // borrowed as scratch for diag(H)
  BB_PETSC(MatGetDiagonal(qp.H, diagonal));
  blocks_.assign(static_cast<std::size_t>(9 * n), 0.0);
  {
    const ReadArray h(diagonal), ll(lambda_l_), lu(lambda_u_), sl(s_l_), su(s_u_);
    for (PetscInt i = 0; i < n; ++i) {
      Eigen::Matrix3d block;
      block << h[i], ll[i], -lu[i], -1.0, sl[i], 0.0, 1.0, 0.0, su[i];
      const double det = block.determinant();
      const Eigen::Matrix3d inverse = (det != 0.0 && std::isfinite(det))
                                          ? Eigen::Matrix3d(block.inverse())
                                          : Eigen::Matrix3d::Identity();
      using RowMajor3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
      Eigen::Map<RowMajor3> stored(&blocks_[static_cast<std::size_t>(9 * i)]);
      stored = inverse;
    }
  }
  {
    const ReadArray g(dl_dy);
    WriteArray rhs(rhs_);
    for (PetscInt i = 0; i < n; ++i) {
      rhs[3 * i] = g[i];
      rhs[3 * i + 1] = 0.0;
      rhs[3 * i + 2] = 0.0;
    }
  }
  // Right preconditioning: solve (J' M^{-1}) z = rhs, then a = M^{-1} z; z_ warm-starts.
  const OperatorSolver::Apply apply = [&](Vec in, Vec out) {
    precondition(in, a_);
    apply_transposed_jacobian(qp.H, a_, out);
  };
  const OperatorSolver::Outcome solve = solver_->solve(apply, rhs_, z_);
  precondition(z_, a_);
  {
    const ReadArray a(a_);
    WriteArray out(w);
    for (PetscInt i = 0; i < n; ++i)
      out[i] = a[3 * i];
  }
  return solve;
}

} // namespace bilevel
