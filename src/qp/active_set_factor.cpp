#include "bilevel/qp/active_set_factor.hpp"

#include <optional>
#include <utility>

namespace bilevel {

namespace {

/// The variables the bound rows `rows` fix, or an empty list if two rows share a variable or a
/// row is zero (then the general path applies).
std::vector<Eigen::Index> fixed_variables(const BoundStructure& bounds, Eigen::Index n,
                                          const std::vector<Eigen::Index>& rows) {
  std::vector<Eigen::Index> fixed;
  std::vector<bool> taken(static_cast<std::size_t>(n), false);
  for (const Eigen::Index r : rows) {
    const Eigen::Index j = bounds.column[static_cast<std::size_t>(r)];
    if (j < 0 || taken[static_cast<std::size_t>(j)])
      return {};
    taken[static_cast<std::size_t>(j)] = true;
    fixed.push_back(j);
  }
  return fixed;
}

} // namespace

ActiveSetFactor::ActiveSetFactor(HessianFactor H, const Eigen::MatrixXd& J,
                                 const Eigen::MatrixXd& A, std::vector<Eigen::Index> rows,
                                 const BoundStructure* bounds)
    : rows_(std::move(rows)), h_(std::move(H)) {
  if (!ok())
    return;
  const Eigen::Index n = h_.size(), k = static_cast<Eigen::Index>(rows_.size()), p = A.rows();
  if (bounds && h_.diagonal() && k > 0)
    fixed_ = fixed_variables(*bounds, n, rows_);
  if (!fixed_.empty()) {
    // The bounds fix x_j = g_r / c_r; the free variables F solve the equality QP with A_F, whose
    // Schur complement A_F H_F^{-1} A_F' = W'W has W = L^{-1} A' with the fixed rows zeroed.
    fixed_coefficient_.resize(k);
    a_fixed_.resize(p, k);
    for (Eigen::Index r = 0; r < k; ++r) {
      fixed_coefficient_[r] = bounds->coefficient[rows_[static_cast<std::size_t>(r)]];
      a_fixed_.col(r) = A.col(fixed_[static_cast<std::size_t>(r)]);
    }
    w_ = A.transpose();
    h_.solve_lower(w_);
    for (const Eigen::Index j : fixed_)
      w_.row(j).setZero();
  } else {
    w_.resize(n, k + p);
    for (Eigen::Index r = 0; r < k; ++r)
      w_.col(r) = J.row(rows_[static_cast<std::size_t>(r)]).transpose();
    w_.rightCols(p) = A.transpose();
    h_.solve_lower(w_); // one triangular solve (dtrsm), k + p right-hand sides
  }
  if (w_.cols() == 0)
    return;
  // S = W'W by a symmetric rank update (dsyrk, half a general product); LDLT reads the lower
  // triangle only.
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(w_.cols(), w_.cols());
  S.selfadjointView<Eigen::Lower>().rankUpdate(w_.transpose());
  schur_.compute(S);
}

ActiveSetFactor ActiveSetFactor::of_qp(const DenseQp& qp, std::vector<Eigen::Index> rows,
                                       const BoundStructure* bounds) {
  if (bounds)
    return ActiveSetFactor(HessianFactor(bounds->q_diagonal), qp.G, qp.A, std::move(rows), bounds);
  // A diagonal Q (the layers' Q = I) needs no n^3/3 Cholesky factor, and W = L^{-1}C' is then a
  // scaling instead of an n^2 k triangular solve: the polishing step of a dense layer at n = 1000
  // spent more on those two than on the rest of its factor.
  if (std::optional<Eigen::VectorXd> q_diagonal = diagonal_of(qp.Q))
    return ActiveSetFactor(HessianFactor(*q_diagonal), qp.G, qp.A, std::move(rows));
  return ActiveSetFactor(HessianFactor(qp.Q), qp.G, qp.A, std::move(rows));
}

void ActiveSetFactor::solve(const Eigen::VectorXd& f, const Eigen::VectorXd& g, Eigen::VectorXd& x,
                            Eigen::VectorXd& omega) const {
  if (!fixed_.empty()) {
    solve_bounds(f, g, x, omega);
    return;
  }
  // x = H^{-1}(f - C'omega) = L^{-T}(v - W omega) with v = L^{-1} f; C x = g gives
  // S omega = W'v - g.
  Eigen::VectorXd v = f;
  h_.solve_lower(v);
  if (w_.cols() > 0) {
    omega = schur_.solve(w_.transpose() * v - g);
    v.noalias() -= w_ * omega;
  } else {
    omega.resize(0);
  }
  h_.solve_upper(v);
  x = std::move(v);
}

void ActiveSetFactor::solve_bounds(const Eigen::VectorXd& f, const Eigen::VectorXd& g,
                                   Eigen::VectorXd& x, Eigen::VectorXd& omega) const {
  const Eigen::Index k = static_cast<Eigen::Index>(fixed_.size()), p = a_fixed_.rows();
  const Eigen::VectorXd x_fixed = g.head(k).cwiseQuotient(fixed_coefficient_);
  // Free variables: H_F x_F + A_F'nu = f_F, A_F x_F = g_A - A_B x_B; with v = L^{-1} f on F
  // (zero on the fixed variables) S nu = W'v - (g_A - A_B x_B), x_F = L^{-T}(v - W nu).
  Eigen::VectorXd v = f;
  for (const Eigen::Index j : fixed_)
    v[j] = 0.0;
  h_.solve_lower(v);
  omega.resize(k + p);
  Eigen::VectorXd nu;
  if (p > 0) {
    nu = schur_.solve(w_.transpose() * v - (g.tail(p) - a_fixed_ * x_fixed));
    v.noalias() -= w_ * nu;
    omega.tail(p) = nu;
  }
  h_.solve_upper(v);
  x = std::move(v);
  // The bound rows' multipliers from their variables' stationarity rows:
  // d_j x_j + c_r omega_r + (A'nu)_j = f_j.
  const Eigen::VectorXd& t = h_.inverse_sqrt(); // d_j = 1 / t_j^2
  for (Eigen::Index r = 0; r < k; ++r) {
    const Eigen::Index j = fixed_[static_cast<std::size_t>(r)];
    x[j] = x_fixed[r];
    double rest = f[j] - x_fixed[r] / (t[j] * t[j]);
    if (p > 0)
      rest -= a_fixed_.col(r).dot(nu);
    omega[r] = rest / fixed_coefficient_[r];
  }
}

} // namespace bilevel
