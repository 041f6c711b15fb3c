#include "adversarial_ls_kernels.hpp"

#include "bilevel/catalog.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/problems/adversarial_ls.hpp"

#include <cmath>
#include <string>

namespace bench {

namespace {

// The strong-scaling instance of docs/scaling.md: n = 10^6 samples, d = 10 features, an 80 MB
// A (40 MB per rank at 2 ranks, each more than the 32 MiB L3), so every pass streams from
// memory.
const char* const kOptions =
    "-problem_data synthetic -problem_n 1000000 -problem_d 10 -problem_lambda 1";
constexpr double kLambda = 1.0;

/// v_i = a sin(i + phase) (reproducible, nonzero, the same at every rank count).
void fill(Vec v, double amplitude, double phase) {
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  PetscScalar* values = nullptr;
  BB_PETSC(VecGetArrayWrite(v, &values));
  for (PetscInt i = begin; i < end; ++i)
    values[i - begin] = amplitude * std::sin(static_cast<double>(i) + phase);
  BB_PETSC(VecRestoreArrayWrite(v, &values));
}

} // namespace

const char* AdversarialLsKernels::options() {
  return kOptions;
}

AdversarialLsKernels::AdversarialLsKernels(MPI_Comm comm) {
  {
    const bilevel::ScopedOptions scoped(kOptions);
    problem_ = bilevel::problem_registry()
                   .at("adversarial_ls")
                   .create(bilevel::RunSpec::from_options(comm));
  }
  a_ = dynamic_cast<const bilevel::AdversarialLs&>(*problem_).matrix();
  n_ = static_cast<double>(problem_->ny());
  d_ = static_cast<double>(problem_->nx());
  lambda_ = kLambda;
  MPI_Comm_size(comm, &ranks_);
  x_ = problem_->create_x();
  w_ = problem_->create_x();
  gx_ = problem_->create_x();
  fill(x_, 0.3, 0.0);
  fill(w_, 1.0, 1.0);
  y_ = problem_->create_y();
  v_ = problem_->create_y();
  gy_ = problem_->create_y();
  m_ = problem_->create_y();
  b_ = problem_->create_y();
  residual_ = problem_->create_y();
  weighted_ = problem_->create_y();
  fill(y_, 1.0, 2.0);
  fill(v_, 1.0, 3.0);
  // b is the initial y; M from the Hessian ((1 + lambda)/n) M, which reads no A.
  problem_->initial_y(x_, b_);
  bilevel::OwnedVec ones = problem_->create_y();
  BB_PETSC(VecSet(ones, 1.0));
  problem_->lower_hess_yy(x_, y_, ones, m_);
  BB_PETSC(VecScale(m_, n_ / (1.0 + lambda_)));
}

// The two-pass sequences adversarial_ls ran before its one-pass oracles, kept here as the
// reference they are measured against.
void AdversarialLsKernels::petsc_lower_gradient(Vec gx, Vec gy) {
  const double scale = 1.0 / n_;
  BB_PETSC(MatMult(a_, x_, residual_));
  BB_PETSC(VecAXPY(residual_, -1.0, y_));
  BB_PETSC(VecPointwiseMult(weighted_, m_, residual_));
  if (gx) {
    BB_PETSC(MatMultTranspose(a_, weighted_, gx));
    BB_PETSC(VecScale(gx, scale));
  }
  BB_PETSC(VecWAXPY(residual_, -1.0, b_, y_));
  BB_PETSC(VecPointwiseMult(gy, m_, residual_));
  BB_PETSC(VecAXPBY(gy, -scale, lambda_ * scale, weighted_));
}

void AdversarialLsKernels::petsc_upper_gradient() {
  const double scale = 1.0 / n_;
  BB_PETSC(MatMult(a_, x_, residual_));
  BB_PETSC(VecAXPY(residual_, -1.0, y_));
  BB_PETSC(MatMultTranspose(a_, residual_, gx_));
  BB_PETSC(VecScale(gx_, scale));
  BB_PETSC(VecAXPBY(gy_, -scale, 0.0, residual_));
}

void AdversarialLsKernels::petsc_hess_xy() {
  BB_PETSC(VecPointwiseMult(weighted_, m_, v_));
  BB_PETSC(MatMultTranspose(a_, weighted_, gx_));
  BB_PETSC(VecScale(gx_, -1.0 / n_));
}

void AdversarialLsKernels::petsc_hess_yx() {
  BB_PETSC(MatMult(a_, w_, weighted_));
  BB_PETSC(VecPointwiseMult(gy_, m_, weighted_));
  BB_PETSC(VecScale(gy_, -1.0 / n_));
}

void AdversarialLsKernels::register_benchmarks(MPI_Comm comm, const Limits& limits) {
  const auto add = [comm, limits](const std::string& name, Cost cost, auto kernel) {
    benchmark::RegisterBenchmark(
        name.c_str(),
        [=](benchmark::State& state) { run_collective(state, comm, cost, limits, kernel); })
        ->Iterations(10)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  // Byte models: what the oracle must move at least, the same for both versions: A once
  // (8 n d), each n-long vector it reads or writes once, and the gathered x on every rank
  // (8 P d). Flops: the products with A, 2 n d each (not the O(n) vector arithmetic).
  const auto cost = [this](double vectors, double products) {
    return Cost{8 * (n_ * d_ + vectors * n_ + ranks_ * d_), products * 2 * n_ * d_};
  };
  bilevel::Problem& p = *problem_;
  // grad g: reads y, m, b, writes grad_y g; A x and A'(M r).
  add("adversarial_ls/lower_gradient", cost(4, 2),
      [this, &p] { p.lower_gradient(x_, y_, gx_, gy_); });
  add("adversarial_ls/lower_gradient_petsc", cost(4, 2),
      [this] { petsc_lower_gradient(gx_, gy_); });
  // grad_y g alone (the inner solvers' call): A x only.
  add("adversarial_ls/lower_gradient_y", cost(4, 1),
      [this, &p] { p.lower_gradient(x_, y_, nullptr, gy_); });
  add("adversarial_ls/lower_gradient_y_petsc", cost(4, 1),
      [this] { petsc_lower_gradient(nullptr, gy_); });
  // grad f: reads y, writes grad_y f; A x and A' r.
  add("adversarial_ls/upper_gradient", cost(2, 2),
      [this, &p] { p.upper_gradient(x_, y_, gx_, gy_); });
  add("adversarial_ls/upper_gradient_petsc", cost(2, 2), [this] { petsc_upper_gradient(); });
  // d_x grad_y g [v] = -(1/n) A'M v: reads m, v.
  add("adversarial_ls/lower_hess_xy", cost(2, 1), [this, &p] { p.lower_hess_xy(x_, y_, v_, gx_); });
  add("adversarial_ls/lower_hess_xy_petsc", cost(2, 1), [this] { petsc_hess_xy(); });
  // d_y grad_x g [w] = -(1/n) M A w: reads m, writes the result.
  add("adversarial_ls/lower_hess_yx", cost(2, 1), [this, &p] { p.lower_hess_yx(x_, y_, w_, gy_); });
  add("adversarial_ls/lower_hess_yx_petsc", cost(2, 1), [this] { petsc_hess_yx(); });
}

} // namespace bench
