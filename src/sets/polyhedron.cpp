#include "bilevel/sets/polyhedron.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/replicated_vec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace bilevel {

namespace {

constexpr double kFeasibilityTolerance = 1e-12;

/// Solves (C C') x = r for the working-set Gram matrix; C has full row rank on the working set.
Eigen::VectorXd gram_solve(const Eigen::MatrixXd& C, const Eigen::VectorXd& r) {
  return (C * C.transpose()).ldlt().solve(r);
}

} // namespace

Polyhedron::Polyhedron(Matrix G, Vector h, Matrix A, Vector b)
    : G_(std::move(G)), A_(std::move(A)), h_(std::move(h)), b_(std::move(b)) {
  if (G_.rows() != h_.size() || A_.rows() != b_.size() ||
      (G_.rows() > 0 && A_.rows() > 0 && G_.cols() != A_.cols()))
    throw InputError("polyhedron: G is " + std::to_string(G_.rows()) + "x" +
                     std::to_string(G_.cols()) + " with h of " + std::to_string(h_.size()) +
                     ", A is " + std::to_string(A_.rows()) + "x" + std::to_string(A_.cols()) +
                     " with b of " + std::to_string(b_.size()) +
                     "; accepted: rows(G) = len(h), rows(A) = len(b), equal column counts");
}

std::string Polyhedron::name() const {
  std::ostringstream out;
  out << "polyhedron(" << G_.rows() << " inequalities, " << A_.rows() << " equalities)";
  return out.str();
}

Polyhedron::Matrix Polyhedron::working_rows(const std::vector<Eigen::Index>& active) const {
  Matrix C(A_.rows() + static_cast<Eigen::Index>(active.size()), std::max(A_.cols(), G_.cols()));
  C.topRows(A_.rows()) = A_;
  for (std::size_t k = 0; k < active.size(); ++k)
    C.row(A_.rows() + static_cast<Eigen::Index>(k)) = G_.row(active[k]);
  return C;
}

Polyhedron::Projection Polyhedron::project(const Vector& u) const {
  // Goldfarb & Idnani (1983) with H = I. Start at the unconstrained minimiser u, enforce the
  // equalities (their multipliers are free), then repeatedly add the most violated inequality:
  // move along the null-space direction z = (I - C'(CC')^{-1}C) n_p while the working set's
  // inequality multipliers stay >= 0, dropping a constraint whose multiplier reaches 0 first.
  const Eigen::Index n = u.size();
  Projection result;
  result.y = u;
  std::vector<Eigen::Index> active;
  Vector mu; // multipliers of the working set: equalities first
  if (A_.rows() > 0) {
    mu = gram_solve(A_, A_ * u - b_);
    result.y = u - A_.transpose() * mu;
    if ((A_ * result.y - b_).norm() > 1e-9 * std::max(1.0, b_.norm()))
      throw InputError("polyhedron: the equality constraints A y = b are inconsistent");
  }
  const Eigen::Index max_steps = 10 * (G_.rows() + A_.rows() + n) + 100;
  for (Eigen::Index step = 0; step < max_steps; ++step) {
    // The most violated inequality not yet in the working set.
    Eigen::Index p = -1;
    double worst = kFeasibilityTolerance * std::max(1.0, h_.lpNorm<Eigen::Infinity>());
    for (Eigen::Index i = 0; i < G_.rows(); ++i) {
      const double violation = G_.row(i).dot(result.y) - h_[i];
      if (violation > worst && std::find(active.begin(), active.end(), i) == active.end()) {
        worst = violation;
        p = i;
      }
    }
    if (p < 0)
      break;
    double lambda_p = 0.0;
    for (;;) {
      const Matrix C = working_rows(active);
      const Vector np = G_.row(p).transpose();
      Vector r = C.rows() > 0 ? gram_solve(C, C * np) : Vector();
      const Vector z = C.rows() > 0 ? Vector(np - C.transpose() * r) : np;
      // Dual step: the largest t keeping the working inequalities' multipliers >= 0.
      double t_dual = std::numeric_limits<double>::infinity();
      Eigen::Index blocking = -1;
      for (std::size_t k = 0; k < active.size(); ++k) {
        const Eigen::Index row = A_.rows() + static_cast<Eigen::Index>(k);
        if (r[row] > 1e-14 && mu[row] / r[row] < t_dual) {
          t_dual = mu[row] / r[row];
          blocking = static_cast<Eigen::Index>(k);
        }
      }
      const double zn = z.dot(np);
      const double t_primal = zn > 1e-14 * np.squaredNorm()
                                  ? (G_.row(p).dot(result.y) - h_[p]) / zn
                                  : std::numeric_limits<double>::infinity();
      const double t = std::min(t_primal, t_dual);
      if (!std::isfinite(t))
        throw InputError("polyhedron: the constraints G y <= h, A y = b have no common point");
      result.y -= t * z;
      if (C.rows() > 0)
        mu -= t * r;
      lambda_p += t;
      if (t_primal <= t_dual) {
        active.push_back(p);
        mu.conservativeResize(mu.size() + 1);
        mu[mu.size() - 1] = lambda_p;
        break;
      }
      // Partial step: constraint `blocking` leaves the working set; keep adding p.
      const Eigen::Index row = A_.rows() + blocking;
      for (Eigen::Index j = row; j + 1 < mu.size(); ++j)
        mu[j] = mu[j + 1];
      mu.conservativeResize(mu.size() - 1);
      active.erase(active.begin() + blocking);
    }
  }
  result.active = active;
  result.equality_multipliers = mu.head(A_.rows());
  result.inequality_multipliers = Vector::Zero(G_.rows());
  for (std::size_t k = 0; k < active.size(); ++k)
    result.inequality_multipliers[active[k]] = mu[A_.rows() + static_cast<Eigen::Index>(k)];
  return result;
}

void Polyhedron::project(Vec u, Vec out) const {
  scatter_owned(project(gather_to_all(u)).y, out);
}

Polyhedron::Vector Polyhedron::project_jacobian(const Vector& u, const Vector& v) const {
  const Matrix C = working_rows(project(u).active);
  Vector w = v;
  if (C.rows() > 0)
    w -= C.transpose() * gram_solve(C, C * w);
  return w;
}

void Polyhedron::project_jacobian(Vec u, Vec v, Vec out) const {
  scatter_owned(project_jacobian(gather_to_all(u), gather_to_all(v)), out);
}

void Polyhedron::active_mask(Vec u, Vec mask) const {
  const auto active = project(gather_to_all(u)).active;
  Vector m = Vector::Zero(G_.cols());
  for (const Eigen::Index i : active)
    m = m.cwiseMax((G_.row(i).transpose().array() != 0.0).cast<double>().matrix());
  scatter_owned(m, mask);
}

} // namespace bilevel
