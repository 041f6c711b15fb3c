// Oracle-call accounting (core/oracle_counts.hpp): every public oracle of a Problem counts one
// call of its kind, touching the whole sum's samples on a finite-sum problem and none otherwise,
// a default VI map built on the lower gradient counts once, and the counts' arithmetic (deltas,
// sums over ranks, a trace row and back) is exact. Record::solve counts the solves reported.
#include "test_support.hpp"

#include "bilevel/core/oracle_counts.hpp"
#include "bilevel/problems/finite_sum.hpp"
#include "bilevel/problems/replicated_problem.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace bilevel::test {
namespace {

constexpr long long kLowerSamples = 7, kUpperSamples = 3;

/// A finite-sum problem whose oracles are zero: only what the calls count matters here.
class CountedSum final : public ReplicatedProblem, public FiniteSumProblem {
public:
  using Vector = Eigen::VectorXd; // both bases name it
  using Columns = FiniteSumProblem::Columns;
  static constexpr ProblemStructure kStructure{.finite_sum = true};
  explicit CountedSum(MPI_Comm comm) : ReplicatedProblem(comm) {}

  std::string name() const override { return "counted_sum"; }
  PetscInt nx() const override { return 2; }
  PetscInt ny() const override { return 3; }
  const ProblemStructure& structure() const override { return kStructure; }

  long long samples(SampleRole role) const override {
    return role == SampleRole::lower ? kLowerSamples : kUpperSamples;
  }
  SampleRange local_samples(SampleRole) const override { throw std::logic_error("unused"); }
  void sample_gradients(SampleRole, const Vector&, const Vector&, std::span<const long long>,
                        XColumns*, Columns*) override {
    throw std::logic_error("unused");
  }
  Columns sample_lower_hess_yy(const Vector&, const Vector&, std::span<const long long>,
                               const Vector&) override {
    throw std::logic_error("unused");
  }
  XColumns sample_lower_hess_xy(const Vector&, const Vector&, std::span<const long long>,
                                const Vector&) override {
    throw std::logic_error("unused");
  }

private:
  Vector initial_x() const override { return Vector::Zero(nx()); }
  double f(const Vector&, const Vector&) override { return 0.0; }
  void grad_f(const Vector&, const Vector&, Vector* gx, Vector* gy) override { zero(gx, gy); }
  double g(const Vector&, const Vector&) override { return 0.0; }
  void grad_g(const Vector&, const Vector&, Vector* gx, Vector* gy) override { zero(gx, gy); }
  Vector hess_yy_g(const Vector&, const Vector&, const Vector&) override {
    return Vector::Zero(ny());
  }
  Vector hess_xy_g(const Vector&, const Vector&, const Vector&) override {
    return Vector::Zero(nx());
  }
  Vector hess_yx_g(const Vector&, const Vector&, const Vector&) override {
    return Vector::Zero(ny());
  }
  void zero(Vector* gx, Vector* gy) const {
    if (gx)
      *gx = Vector::Zero(nx());
    if (gy)
      *gy = Vector::Zero(ny());
  }
};

/// Calls every oracle of `p` once: 2 upper and 10 lower oracles (the VI map and its products
/// default to g's).
void call_every_oracle(Problem& p) {
  OwnedVec x = p.create_x(), y = p.create_y(), gx = p.create_x(), gy = p.create_y();
  p.initial_x(x);
  p.initial_y(x, y);
  (void)p.upper_value(x, y);
  p.upper_gradient(x, y, gx, gy);
  (void)p.lower_value(x, y);
  p.lower_gradient(x, y, gx, gy);
  p.lower_hess_yy(x, y, y, gy);
  p.lower_hess_xy(x, y, y, gx);
  p.lower_hess_yx(x, y, x, gy);
  p.vi_map(x, y, gy);
  p.vi_jac_y(x, y, y, gy);
  p.vi_jac_y_transpose(x, y, y, gy);
  p.vi_jac_x(x, y, x, gy);
  p.vi_jac_x_transpose(x, y, y, gx);
}

void expect_one_of_each_call(const OracleCounts& c) {
  EXPECT_EQ(c.calls(OracleKind::function_value), 2);   // f, g
  EXPECT_EQ(c.calls(OracleKind::upper_gradient), 1);   // grad f
  EXPECT_EQ(c.calls(OracleKind::lower_gradient), 2);   // grad g, F
  EXPECT_EQ(c.calls(OracleKind::hessian_vector), 3);   // hess_yy, jac_y and its transpose
  EXPECT_EQ(c.calls(OracleKind::cross_derivative), 4); // hess_xy/yx, jac_x and its transpose
  EXPECT_EQ(c.calls(OracleKind::inner_solve), 0);
}

TEST(OracleCounts, EveryOracleOfAFiniteSumCountsOnceAndTouchesItsSum) {
  CountedSum p(PETSC_COMM_WORLD);
  call_every_oracle(p);
  expect_one_of_each_call(p.oracle_counts());
  EXPECT_EQ(p.oracle_counts().samples(), 2 * kUpperSamples + 10 * kLowerSamples);
}

TEST(OracleCounts, AProblemThatIsNotASumTouchesNoSamples) {
  auto p = make_problem("quadratic", "-problem_ny 20 -problem_nx 3");
  call_every_oracle(*p);
  expect_one_of_each_call(p->oracle_counts());
  EXPECT_EQ(p->oracle_counts().samples(), 0);
}

TEST(OracleCounts, DeltasSumsAndTraceRowsAreExact) {
  OracleCounts before;
  before.add(OracleKind::lower_gradient, 5);
  OracleCounts after = before;
  after.add(OracleKind::hessian_vector, 5);
  after.add_calls(OracleKind::inner_solve, 4);
  const OracleCounts delta = after.since(before);
  EXPECT_EQ(delta.calls(OracleKind::lower_gradient), 0);
  EXPECT_EQ(delta.calls(OracleKind::hessian_vector), 1);
  EXPECT_EQ(delta.calls(OracleKind::inner_solve), 4);
  EXPECT_EQ(delta.samples(), 5);
  OracleCounts sum = before;
  sum += delta;
  EXPECT_EQ(sum, after);

  int size = 0;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const OracleCounts summed = after.summed_over(PETSC_COMM_WORLD);
  EXPECT_EQ(summed.calls(OracleKind::inner_solve), 4 * size);
  EXPECT_EQ(summed.samples(), 10 * size);

  Record row;
  after.record(row);
  EXPECT_EQ(row.get("calls_inner_solve"), 4.0);
  EXPECT_EQ(row.get("samples"), 10.0);
  EXPECT_EQ(OracleCounts::from_row([&](const char* column) { return row.get(column); }), after);
  Record without_samples;
  after.record(without_samples, /*samples_column=*/false);
  EXPECT_FALSE(without_samples.has("samples"));
  EXPECT_TRUE(without_samples.has("calls_function_value"));
}

TEST(Record, CountsTheSolvesItsReportsStandFor) {
  Record r;
  r.solve("ksp", true, 12);
  r.solve("qp", false, 9.5, /*solves=*/8); // a minibatch of 8 QPs, one report
  EXPECT_EQ(r.solves(), 9);
  r.clear();
  EXPECT_EQ(r.solves(), 0);
}

} // namespace
} // namespace bilevel::test
