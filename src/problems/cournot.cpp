#include "bilevel/problems/cournot.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"

#include <algorithm>
#include <array>

namespace bilevel {

namespace {
// Independent streams of the counter generator, one per firm attribute.
enum Stream : std::uint64_t { kCost = 1, kQuadratic, kEmission };

// Ranges of the firm data. With a = 100, slope 1 and cap 30, 11 % of the firms stay idle
// (marginal cost above the price) and 43 % produce at capacity at x = 0 (N = 1000): both bounds of
// the box are active, so the implicit gradient is not the unconstrained one.
constexpr double kCostLo = 10.0, kCostHi = 90.0;
constexpr double kQuadraticLo = 0.5, kQuadraticHi = 2.0;
constexpr double kEmissionLo = 0.0, kEmissionHi = 2.0;

/// y_i within this of a bound counts as idle / capped in the reported fractions.
constexpr double kBoundTolerance = 1e-10;

/// Sums `values` over the Vec's communicator in one logged reduction.
template <std::size_t n> void global_sum(MPI_Comm comm, std::array<double, n>& values) {
  logged_allreduce(comm, values.data(), static_cast<int>(n), MPI_SUM);
}

/// A read-only view of a Vec's local entries.
class LocalRead {
public:
  explicit LocalRead(Vec v) : v_(v) { BB_PETSC(VecGetArrayRead(v_, &a_)); }
  ~LocalRead() { VecRestoreArrayRead(v_, &a_); }
  LocalRead(const LocalRead&) = delete;
  LocalRead& operator=(const LocalRead&) = delete;
  double operator[](PetscInt i) const { return a_[i]; }

private:
  Vec v_;
  const PetscScalar* a_ = nullptr;
};

PetscInt local_size(Vec v) {
  PetscInt n = 0;
  BB_PETSC(VecGetLocalSize(v, &n));
  return n;
}
} // namespace

Cournot::Config Cournot::Config::from_options(const RunSpec& run) {
  OptionSection section("problem cournot");
  const PetscInt firms =
      options::get_int("-problem_firms", 1000, 1, 1000000000, "number of firms N");
  const double a =
      options::get_positive("-problem_demand_a", 100.0, "inverse demand p(Q) = a - (slope/N) Q");
  const double slope =
      options::get_positive("-problem_demand_slope", 1.0, "slope of the inverse demand times N");
  const double cap =
      options::get_positive("-problem_cap", 30.0, "capacity of every firm: y_i in [0, cap]");
  const double damage = options::get_real("-problem_damage", 10.0, 0.0, 1e12,
                                          "emission damage kappa per unit of e_i y_i");
  const double tax_cost =
      options::get_real("-problem_tax_cost", 0.1, 0.0, 1e12, "tax-administration cost gamma");
  const double xb = options::get_positive("-problem_x_bound", 100.0, "X = [-xb, xb]^N");
  const long long seed = run.seed;
  return Config{firms, a, slope, cap, damage, tax_cost, xb, seed, DGap::from_options(0.5, 2.0)};
}

Cournot::Cournot(MPI_Comm comm, Config config)
    : ViProblem(comm, config.gap), config_(config), lower_set_(0.0, config.cap),
      upper_set_(-config.x_bound, config.x_bound), curvature_{0.0, 0.0} {
  BB_PETSC(VecCreateMPI(comm, PETSC_DECIDE, config_.firms, c_.receive()));
  d_ = duplicate(c_);
  e_ = duplicate(c_);
  const auto seed = static_cast<std::uint64_t>(config_.seed);
  const CounterRng cost(seed, kCost), quadratic(seed, kQuadratic), emission(seed, kEmission);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(c_, &begin, &end));
  PetscScalar *pc = nullptr, *pd = nullptr, *pe = nullptr;
  BB_PETSC(VecGetArray(c_, &pc));
  BB_PETSC(VecGetArray(d_, &pd));
  BB_PETSC(VecGetArray(e_, &pe));
  for (PetscInt i = begin; i < end; ++i) {
    const auto k = static_cast<std::uint64_t>(i);
    pc[i - begin] = cost.uniform(k, kCostLo, kCostHi);
    pd[i - begin] = quadratic.uniform(k, kQuadraticLo, kQuadraticHi);
    pe[i - begin] = emission.uniform(k, kEmissionLo, kEmissionHi);
  }
  BB_PETSC(VecRestoreArray(e_, &pe));
  BB_PETSC(VecRestoreArray(d_, &pd));
  BB_PETSC(VecRestoreArray(c_, &pc));
  PetscReal d_min = 0, d_max = 0;
  BB_PETSC(VecMin(d_, nullptr, &d_min));
  BB_PETSC(VecMax(d_, nullptr, &d_max));
  const double b = slope();
  curvature_ = {d_min + b, d_max + b + b * static_cast<double>(config_.firms)};
}

double Cournot::slope() const {
  return config_.demand_slope / static_cast<double>(config_.firms);
}

OwnedVec Cournot::create_x() const {
  return duplicate(c_);
}
OwnedVec Cournot::create_y() const {
  return duplicate(c_);
}
void Cournot::initial_x(Vec x) const {
  BB_PETSC(VecSet(x, 0.0));
}

double Cournot::evaluate_upper_value(Vec x, Vec y) {
  // [Q, sum (c y + d y^2 / 2), <e, y>, ||x||^2] in one reduction.
  std::array<double, 4> s{};
  {
    const LocalRead px(x), py(y), pc(c_), pd(d_), pe(e_);
    for (PetscInt i = 0, n = local_size(y); i < n; ++i) {
      s[0] += py[i];
      s[1] += (pc[i] + 0.5 * pd[i] * py[i]) * py[i];
      s[2] += pe[i] * py[i];
      s[3] += px[i] * px[i];
    }
  }
  global_sum(comm(), s);
  const double welfare = config_.demand_intercept * s[0] - 0.5 * slope() * s[0] * s[0] - s[1];
  return -welfare + config_.damage * s[2] + 0.5 * config_.tax_cost * s[3];
}

void Cournot::evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) {
  if (gx)
    BB_PETSC(VecAXPBY(gx, config_.tax_cost, 0.0, x));
  if (gy) {
    // d(-W)/dy_i = -p(Q) + c_i + d_i y_i;  plus kappa e_i.
    PetscScalar total = 0;
    BB_PETSC(VecSum(y, &total));
    BB_PETSC(VecPointwiseMult(gy, d_, y));
    BB_PETSC(VecAXPBYPCZ(gy, 1.0, config_.damage, 1.0, c_, e_));
    BB_PETSC(VecShift(gy, -(config_.demand_intercept - slope() * total)));
  }
}

void Cournot::evaluate_vi_map(Vec x, Vec y, Vec out) {
  // F = c + x + (d + b) y - (a - b Q).
  PetscScalar total = 0;
  BB_PETSC(VecSum(y, &total));
  const double b = slope();
  BB_PETSC(VecPointwiseMult(out, d_, y));
  BB_PETSC(VecAXPY(out, b, y));
  BB_PETSC(VecAXPBYPCZ(out, 1.0, 1.0, 1.0, c_, x));
  BB_PETSC(VecShift(out, -(config_.demand_intercept - b * total)));
}

void Cournot::evaluate_vi_jac_y(Vec, Vec, Vec v, Vec out) {
  // (diag(d + b) + b 1 1') v: the rank-one part costs one global sum.
  PetscScalar total = 0;
  BB_PETSC(VecSum(v, &total));
  const double b = slope();
  BB_PETSC(VecPointwiseMult(out, d_, v));
  BB_PETSC(VecAXPY(out, b, v));
  BB_PETSC(VecShift(out, b * total));
}
void Cournot::evaluate_vi_jac_y_transpose(Vec x, Vec y, Vec v, Vec out) {
  evaluate_vi_jac_y(x, y, v, out); // symmetric: the game has a potential
}
void Cournot::evaluate_vi_jac_x(Vec, Vec, Vec w, Vec out_y) {
  BB_PETSC(VecCopy(w, out_y));
}
void Cournot::evaluate_vi_jac_x_transpose(Vec, Vec, Vec v, Vec out_x) {
  BB_PETSC(VecCopy(v, out_x));
}

void Cournot::report_metrics(Vec, Vec y, Record& record) {
  std::array<double, 3> s{}; // [Q, idle, capped]
  {
    const LocalRead py(y);
    for (PetscInt i = 0, n = local_size(y); i < n; ++i) {
      s[0] += py[i];
      s[1] += py[i] <= kBoundTolerance ? 1.0 : 0.0;
      s[2] += py[i] >= config_.cap - kBoundTolerance ? 1.0 : 0.0;
    }
  }
  global_sum(comm(), s);
  const auto n = static_cast<double>(config_.firms);
  record.set("market_price", config_.demand_intercept - slope() * s[0]);
  record.set("idle_fraction", s[1] / n);
  record.set("capped_fraction", s[2] / n);
}

} // namespace bilevel
