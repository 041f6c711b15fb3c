#include "bilevel/qp/bound_structure.hpp"

#include <utility>

namespace bilevel {

std::optional<Eigen::VectorXd> diagonal_of(const Eigen::MatrixXd& M) {
  for (Eigen::Index j = 0; j < M.cols(); ++j)
    for (Eigen::Index i = 0; i < M.rows(); ++i)
      if (i != j && M(i, j) != 0.0)
        return std::nullopt;
  return Eigen::VectorXd(M.diagonal());
}

Eigen::VectorXd BoundStructure::hessian(const Eigen::VectorXd& w) const {
  Eigen::VectorXd d = q_diagonal;
  for (std::size_t i = 0; i < column.size(); ++i)
    if (column[i] >= 0) {
      const auto row = static_cast<Eigen::Index>(i);
      d[column[i]] += w[row] * coefficient[row] * coefficient[row];
    }
  return d;
}

Eigen::VectorXd BoundStructure::times(const Eigen::VectorXd& v) const {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(coefficient.size());
  for (std::size_t i = 0; i < column.size(); ++i)
    if (column[i] >= 0)
      out[static_cast<Eigen::Index>(i)] = coefficient[static_cast<Eigen::Index>(i)] * v[column[i]];
  return out;
}

Eigen::VectorXd BoundStructure::transpose_times(const Eigen::VectorXd& u) const {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(q_diagonal.size());
  for (std::size_t i = 0; i < column.size(); ++i)
    if (column[i] >= 0)
      out[column[i]] += coefficient[static_cast<Eigen::Index>(i)] * u[static_cast<Eigen::Index>(i)];
  return out;
}

std::optional<BoundStructure> BoundStructure::of(const DenseQp& qp) {
  if (!qp.quadratic.empty())
    return std::nullopt;
  std::optional<Eigen::VectorXd> q_diagonal = diagonal_of(qp.Q);
  if (!q_diagonal)
    return std::nullopt;
  const Eigen::Index n = qp.n(), m = qp.G.rows();
  BoundStructure s;
  s.q_diagonal = std::move(*q_diagonal);
  s.column.assign(static_cast<std::size_t>(m), -1);
  s.coefficient = Eigen::VectorXd::Zero(m);
  // G is column-major: walk it by columns, recording each row's single nonzero.
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i)
      if (qp.G(i, j) != 0.0) {
        auto& c = s.column[static_cast<std::size_t>(i)];
        if (c >= 0)
          return std::nullopt;
        c = j;
        s.coefficient[i] = qp.G(i, j);
      }
  return s;
}

} // namespace bilevel
