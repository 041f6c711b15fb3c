#include "bilevel/qp/hessian_factor.hpp"

#include <utility>

namespace bilevel {

HessianFactor::HessianFactor(Eigen::MatrixXd H) : lower_(std::move(H)) {
  // LLT on a Ref factors in place (the same blocked algorithm as LLT<MatrixXd>).
  const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> chol(lower_);
  ok_ = chol.info() == Eigen::Success;
}

HessianFactor::HessianFactor(const Eigen::VectorXd& diagonal) : diagonal_(true) {
  // As LLT fails on a non-positive pivot: positive definite iff every entry is positive.
  ok_ = (diagonal.array() > 0).all() && diagonal.allFinite();
  inv_sqrt_ = diagonal.cwiseSqrt().cwiseInverse();
}

} // namespace bilevel
