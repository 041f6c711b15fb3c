#include "bilevel/qp/interior_point_qcqp.hpp"

#include "bilevel/qp/step_to_boundary.hpp"

#include <algorithm>
#include <cmath>

namespace bilevel {

namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

struct Iterate {
  Vector y, s, z, nu;
};

/// The KKT residuals but complementarity: stationarity, c(y) + s, A y - b.
struct Residuals {
  Vector d, p, e;
};

Residuals residuals(const DenseQp& qp, const Iterate& it) {
  Residuals r;
  r.d = qp.Q * it.y + qp.q + qp.inequality_jacobian(it.y).transpose() * it.z;
  if (qp.A.rows() > 0)
    r.d.noalias() += qp.A.transpose() * it.nu;
  r.p = it.s - qp.slack(it.y);
  r.e = qp.A.rows() > 0 ? Vector(qp.A * it.y - qp.b) : Vector();
  return r;
}

/// ||(r_d, r_p, r_e, s .* z - target)||: what a step must decrease.
double merit(const Residuals& r, const Iterate& it, double target) {
  return std::sqrt(r.d.squaredNorm() + r.p.squaredNorm() + r.e.squaredNorm() +
                   (it.s.cwiseProduct(it.z).array() - target).matrix().squaredNorm());
}

struct Step {
  Vector dy, ds, dz, dnu;
};

/// The Newton system at one iterate, its reduced matrix [H + J'WJ  A'; A  0] factored once and
/// used for the predictor and the centred step.
class NewtonSystem {
public:
  NewtonSystem(const DenseQp& qp, const Iterate& it)
      : H_(qp.lagrangian_hessian(it.z)), J_(qp.inequality_jacobian(it.y)), A_(qp.A), s_(it.s),
        z_(it.z) {
    const Eigen::Index n = qp.n(), p = A_.rows();
    Matrix K = Matrix::Zero(n + p, n + p);
    K.topLeftCorner(n, n) = H_ + J_.transpose() * z_.cwiseQuotient(s_).asDiagonal() * J_;
    K.block(n, 0, p, n) = A_;
    K.block(0, n, n, p) = A_.transpose();
    lu_.compute(K);
  }

  /// Solves H dy + J'dz + A'dnu = -r_d, J dy + ds = -r_p, A dy = -r_e, Z ds + S dz = -r_c,
  /// refined once on the unreduced system: the weights z ./ s span many orders of magnitude
  /// near the solution, and the reduced matrix alone loses the digits of the stationarity.
  Step solve(const Residuals& r, const Vector& r_c) const {
    Step st = reduced_solve(r.d, r.p, r.e, r_c);
    Residuals e;
    e.d = H_ * st.dy + J_.transpose() * st.dz + r.d;
    if (A_.rows() > 0)
      e.d.noalias() += A_.transpose() * st.dnu;
    e.p = J_ * st.dy + st.ds + r.p;
    e.e = A_.rows() > 0 ? Vector(A_ * st.dy + r.e) : Vector();
    const Vector e_c = z_.cwiseProduct(st.ds) + s_.cwiseProduct(st.dz) + r_c;
    const Step c = reduced_solve(e.d, e.p, e.e, e_c);
    st.dy += c.dy;
    st.ds += c.ds;
    st.dz += c.dz;
    st.dnu += c.dnu;
    return st;
  }

private:
  Step reduced_solve(const Vector& r_d, const Vector& r_p, const Vector& r_e,
                     const Vector& r_c) const {
    const Eigen::Index n = H_.rows(), p = A_.rows();
    const Vector u = (z_.cwiseProduct(r_p) - r_c).cwiseQuotient(s_); // dz = u + W J dy
    Vector rhs(n + p);
    rhs.head(n) = -r_d - J_.transpose() * u;
    rhs.tail(p) = -r_e;
    const Vector sol = lu_.solve(rhs);
    Step st;
    st.dy = sol.head(n);
    st.dnu = sol.tail(p);
    const Vector j_dy = J_ * st.dy;
    st.ds = -r_p - j_dy;
    st.dz = u + z_.cwiseQuotient(s_).cwiseProduct(j_dy);
    return st;
  }

  Matrix H_, J_;
  const Matrix& A_;
  const Vector &s_, &z_;
  Eigen::PartialPivLU<Matrix> lu_;
};

Iterate advance(const Iterate& it, const Step& st, double alpha) {
  return {it.y + alpha * st.dy, it.s + alpha * st.ds, it.z + alpha * st.dz, it.nu + alpha * st.dnu};
}

double max_abs(const Vector& v) {
  return v.size() > 0 ? v.lpNorm<Eigen::Infinity>() : 0.0;
}

/// Active-set polishing (the QP method polishes too): with the rows whose multiplier exceeds
/// their slack taken as active and the others' multipliers zero, Newton's method on the square
/// system  Q y + q + J_A'z_A + A'nu = 0,  c_A(y) = 0,  A y = b  (no weights z ./ s, so none of
/// the interior point's ill-conditioning). Used when the interior point stalls: near the
/// solution its slacks of active rows fall to ~1e-17 and the reduced matrix cannot resolve the
/// last ~1e-10 of stationarity (measured on ball_layer), though the active set is evident.
/// Replaces `it` and returns true if it reaches `tol` with the inactive rows feasible and the
/// active multipliers nonnegative.
bool polish(const DenseQp& qp, double tol, Iterate& it) {
  std::vector<Eigen::Index> active;
  for (Eigen::Index i = 0; i < it.s.size(); ++i)
    if (it.z[i] > it.s[i])
      active.push_back(i);
  const Eigen::Index n = qp.n(), k = static_cast<Eigen::Index>(active.size()), p = qp.A.rows();
  Iterate trial = it;
  trial.z.setZero();
  for (Eigen::Index r = 0; r < k; ++r)
    trial.z[active[static_cast<std::size_t>(r)]] = it.z[active[static_cast<std::size_t>(r)]];
  for (int newton = 0; newton < 5; ++newton) {
    const Vector slack = qp.slack(trial.y);
    trial.s = slack.cwiseMax(0.0);
    const Residuals r = residuals(qp, trial);
    Vector active_slack(k);
    for (Eigen::Index a = 0; a < k; ++a)
      active_slack[a] = slack[active[static_cast<std::size_t>(a)]];
    if (std::max({max_abs(r.d), max_abs(active_slack), max_abs(r.e)}) <= tol) {
      if (slack.minCoeff() < -tol || trial.z.minCoeff() < 0)
        return false;
      it = trial;
      return true;
    }
    const Matrix J = qp.inequality_jacobian(trial.y);
    Matrix K = Matrix::Zero(n + k + p, n + k + p);
    K.topLeftCorner(n, n) = qp.lagrangian_hessian(trial.z);
    for (Eigen::Index a = 0; a < k; ++a)
      K.block(n + a, 0, 1, n) = J.row(active[static_cast<std::size_t>(a)]);
    K.block(n + k, 0, p, n) = qp.A;
    K.topRightCorner(n, k + p) = K.bottomLeftCorner(k + p, n).transpose();
    Vector rhs(n + k + p);
    rhs << -r.d, active_slack, -r.e; // c_A = -slack_A
    const Vector step = K.partialPivLu().solve(rhs);
    if (!step.allFinite())
      return false;
    trial.y += step.head(n);
    for (Eigen::Index a = 0; a < k; ++a)
      trial.z[active[static_cast<std::size_t>(a)]] += step[n + a];
    trial.nu += step.tail(p);
  }
  return false;
}

} // namespace

QpSolution InteriorPointQcqp::solve(const DenseQp& qp) const {
  qp.validate();
  const Eigen::Index n = qp.n(), m = qp.inequalities(), p = qp.A.rows();
  double data = std::max({max_abs(qp.q), max_abs(qp.h), max_abs(qp.b)});
  for (const QuadraticConstraint& c : qp.quadratic)
    data = std::max({data, std::abs(c.s), max_abs(c.r)});
  const double tol = config_.tolerance * (1.0 + data);

  // Start: the minimiser of g on A y = b, slacks at least 1, unit multipliers.
  Iterate it;
  {
    Matrix K = Matrix::Zero(n + p, n + p);
    K.topLeftCorner(n, n) = qp.Q;
    K.block(n, 0, p, n) = qp.A;
    K.block(0, n, n, p) = qp.A.transpose();
    Vector rhs(n + p);
    rhs << -qp.q, qp.b;
    const Vector sol = K.partialPivLu().solve(rhs);
    it.y = sol.head(n);
    it.nu = sol.tail(p);
    it.s = qp.slack(it.y).cwiseMax(1.0);
    it.z = Vector::Ones(m);
  }
  QpSolution out;
  out.status = QpStatus::kMaxIterations;
  for (; out.iterations < config_.max_iterations; ++out.iterations) {
    const Residuals r = residuals(qp, it);
    const Vector sz = it.s.cwiseProduct(it.z);
    if (!it.y.allFinite() || !r.d.allFinite()) {
      out.status = QpStatus::kNumericalError;
      break;
    }
    const double residual = std::max({max_abs(r.d), max_abs(r.p), max_abs(r.e), max_abs(sz)});
    if (residual <= tol) {
      out.status = QpStatus::kSolved;
      break;
    }
    const NewtonSystem newton(qp, it);
    // Predictor (target 0) for the centring sigma = (mu_affine / mu)^3, then the centred step.
    const double mu = sz.sum() / static_cast<double>(m);
    const Step affine = newton.solve(r, sz);
    const double alpha_affine =
        std::min(step_to_boundary(it.s, affine.ds), step_to_boundary(it.z, affine.dz));
    const double mu_affine =
        (it.s + alpha_affine * affine.ds).dot(it.z + alpha_affine * affine.dz) /
        static_cast<double>(m);
    // The complementarity may not run ahead of the other residuals: below them the slacks of
    // active rows reach ~1e-24, the weights z ./ s ~1e24, and the reduced matrix can no longer
    // resolve the stationarity residual (measured: stuck at 2e-10 on a ball projection).
    const double infeasibility = std::max({max_abs(r.d), max_abs(r.p), max_abs(r.e)});
    const double target = std::max(mu * std::pow(std::clamp(mu_affine / mu, 0.0, 1.0), 3),
                                   0.1 * std::min(mu, infeasibility));
    const Step step = newton.solve(r, (sz.array() - target).matrix());
    // A step that is not finite (weights z ./ s beyond ~1e17) or that no backtracking accepts:
    // the interior point has stalled; polishing decides whether it was at the solution.
    const auto stalled = [&] {
      return polish(qp, tol, it) ? QpStatus::kSolved : QpStatus::kNumericalError;
    };
    if (!step.dy.allFinite() || !step.dz.allFinite() || !step.dnu.allFinite()) {
      out.status = stalled();
      break;
    }
    // Fraction to the boundary max(0.99, 1 - residual) (IPOPT's rule, with the KKT residual for
    // its barrier parameter): a fixed 0.99 would cut the slacks of active rows a hundredfold per
    // step while the nonlinear primal residual follows only linearly, down into round-off; then
    // backtracking on the merit.
    const double boundary = std::max(0.99, 1.0 - residual);
    double alpha = std::min(
        1.0, boundary * std::min(step_to_boundary(it.s, step.ds), step_to_boundary(it.z, step.dz)));
    const double start = merit(r, it, target);
    bool accepted = false;
    for (int halving = 0; halving < 40 && !accepted; ++halving, alpha *= 0.5) {
      const Iterate trial = advance(it, step, alpha);
      if (merit(residuals(qp, trial), trial, target) <= (1.0 - 0.01 * alpha) * start) {
        it = trial;
        accepted = true;
      }
    }
    if (!accepted) {
      out.status = stalled();
      break;
    }
  }
  out.y = it.y;
  out.lambda = it.z;
  out.nu = it.nu;
  return out;
}

} // namespace bilevel
