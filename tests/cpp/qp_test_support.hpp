#pragma once
// Random dense QPs built around a known solution, shared by the QP solver and QP-layer tests:
// y0 and the multipliers are chosen first, then q so that they satisfy the KKT conditions.
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/qp/dense_qp.hpp"
#include "bilevel/qp/interior_point_qp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace bilevel::test {

inline Eigen::MatrixXd random_matrix(const CounterRng& rng, Eigen::Index rows, Eigen::Index cols,
                                     std::uint64_t offset) {
  Eigen::MatrixXd M(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      M(i, j) = rng.normal(offset + static_cast<std::uint64_t>(i * cols + j));
  return M;
}

struct KnownQp {
  DenseQp qp;
  Eigen::VectorXd y, lambda;
};

/// n variables, m inequalities of which `active` are tight at y0, p equalities. With
/// `degenerate`, every third tight row has a zero multiplier (weakly active); otherwise all
/// tight rows have multipliers in [0.5, 2] (strict complementarity).
inline KnownQp known_qp(std::uint64_t seed, Eigen::Index n, Eigen::Index m, Eigen::Index p,
                        Eigen::Index active, bool degenerate) {
  const CounterRng rng(seed, 7);
  KnownQp k;
  const Eigen::MatrixXd M = random_matrix(rng, n, n, 0);
  k.qp.Q = M * M.transpose() / static_cast<double>(n) + 0.1 * Eigen::MatrixXd::Identity(n, n);
  k.qp.G = random_matrix(rng, m, n, 1u << 20);
  k.qp.A = random_matrix(rng, p, n, 2u << 20);
  k.y = random_matrix(rng, n, 1, 3u << 20);
  const Eigen::VectorXd nu = random_matrix(rng, p, 1, 4u << 20);
  k.lambda = Eigen::VectorXd::Zero(m);
  Eigen::VectorXd slack(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    slack[i] = i < active ? 0.0 : rng.uniform(5000 + static_cast<std::uint64_t>(i), 0.1, 1.0);
    if (i < active && !(degenerate && i % 3 == 2))
      k.lambda[i] = rng.uniform(6000 + static_cast<std::uint64_t>(i), 0.5, 2.0);
  }
  // A matrix without rows stays out of the products: Eigen hands it to BLAS dgemv with a leading
  // dimension of 0, which BLAS rejects with a message on stderr.
  k.qp.h = slack;
  k.qp.q = -(k.qp.Q * k.y);
  if (m > 0) {
    k.qp.h += k.qp.G * k.y;
    k.qp.q -= k.qp.G.transpose() * k.lambda;
  }
  k.qp.b = Eigen::VectorXd::Zero(p);
  if (p > 0) {
    k.qp.b = k.qp.A * k.y;
    k.qp.q -= k.qp.A.transpose() * nu;
  }
  return k;
}

/// Checks `predicted`, a layer gradient's derivative of l(y*) = v'y* along a perturbation of
/// `qp`'s data (perturb(qp, t) moves it by t along one direction), against central differences
/// with tightly solved QPs; `what` names the data in a failure.
template <class Perturb>
void expect_layer_derivative(const DenseQp& qp, const Eigen::VectorXd& v, const char* what,
                             Perturb perturb, double predicted) {
  const auto loss = [&](const DenseQp& moved) {
    return v.dot(InteriorPointQp({1e-13, 100}).solve(moved).y);
  };
  const double eps = 1e-5;
  DenseQp plus = qp, minus = qp;
  perturb(plus, eps);
  perturb(minus, -eps);
  const double fd = (loss(plus) - loss(minus)) / (2 * eps);
  EXPECT_NEAR(predicted, fd, 1e-6 * std::max(1.0, std::abs(fd))) << what;
}

} // namespace bilevel::test
