#pragma once
// The IGFM paper's adversarial training with least squares (the paper's Example 5.4, Section 7.1):
//   f(x, y) = (1/2n) ||Ax - y||^2,
//   g(x, y) = (1/2n) ||Ax - y||_M^2 + (lambda/2n) ||y - b||_M^2,
// x in R^d the learner's regression weights, y in R^n the labels an adversarial data provider
// reports (starting from the true labels b), M = diag(m) with half its entries spread evenly in
// [sigma_min, sigma_max] and half zero, assigned to samples by a seeded permutation. g is convex
// but not strongly convex in y (singular where m_i = 0, ill-conditioned where m_i ~ 1e-9).
// Y*(x) pins y_i = (a_i x + lambda b_i)/(1 + lambda) where m_i > 0 and leaves it free where
// m_i = 0; the optimistic choice there is y_i = a_i x, so in closed form
//   phi(x) = (1/2n) (lambda/(1+lambda))^2 sum_{m_i > 0} (a_i x - b_i)^2.
// Data: the diabetes set (442 x 10) that Debian's python3-sklearn ships, standardised, or a
// synthetic set of any size; rows of A and the entries of y, b, m are distributed across ranks.
// Every oracle that touches A is one DenseRowPass over its rows (A x and A' r in one read of A).
#include "bilevel/problems/dense_row_pass.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class AdversarialLs final : public Problem {
public:
  static constexpr ProblemStructure kStructure{.convexity = LowerConvexity::convex,
                                               .exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    bool synthetic;
    std::string data_dir;
    PetscInt n, d; ///< synthetic sizes (the diabetes set fixes its own)
    double lambda, sigma_min, sigma_max;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  AdversarialLs(MPI_Comm comm, Config config);

  std::string name() const override { return "adversarial_ls"; }
  PetscInt nx() const override { return d_; }
  PetscInt ny() const override { return n_; }
  OwnedVec create_x() const override;
  OwnedVec create_y() const override;
  void initial_x(Vec x) const override;
  /// The true labels b: the adversary starts from the unmodified data.
  void initial_y(Vec x, Vec y) const override;

  /// grad^2_yy g = ((1 + lambda)/n) M: mu = 0 (half of M is zero), L = (1 + lambda) max m / n.
  Curvature lower_curvature(Vec, Vec, CurvatureNeed) override;
  void exact_hypergradient(Vec x, Vec grad, Vec y_star) override;
  /// `phi` (the closed form above at x) and `mse` = (1/n) ||Ax - b||^2.
  void report_metrics(Vec x, Vec y, Record& record) override;
  void export_data(hid_t group) const override;
  /// A (n x d, MATMPIDENSE, rows distributed as y's entries): for checks and benchmarks.
  Mat matrix() const { return A_; }

private:
  // Problem's public oracles count each call (oracle_counts()) and call these.
  double evaluate_upper_value(Vec x, Vec y) override;
  void evaluate_upper_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  double evaluate_lower_value(Vec x, Vec y) override;
  void evaluate_lower_gradient(Vec x, Vec y, Vec gx, Vec gy) override;
  void evaluate_lower_hess_yy(Vec x, Vec y, Vec v, Vec out) override;
  void evaluate_lower_hess_xy(Vec x, Vec y, Vec v, Vec out_x) override;
  void evaluate_lower_hess_yx(Vec x, Vec y, Vec w, Vec out_y) override;

  struct Fit {
    double phi; ///< the closed form above
    double mse; ///< (1/n) ||Ax - b||^2
  };
  Fit fit(Vec x);

  Config config_;
  PetscInt n_ = 0, d_ = 0;
  OwnedMat A_;
  OwnedVec b_, m_, support_; ///< support_: 1 where m_i > 0, else 0
  OwnedVec work_x_;          ///< the layout of x
  DenseRowPass pass_;
};

} // namespace bilevel
