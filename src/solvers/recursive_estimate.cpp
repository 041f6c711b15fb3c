#include "bilevel/solvers/recursive_estimate.hpp"

namespace bilevel {

const RecursiveEstimate::Vector& RecursiveEstimate::update(const Vector& now,
                                                           const Vector& previous, double eta) {
  d_ = now + (1.0 - eta) * (d_ - previous);
  return d_;
}

const RecursiveEstimate::Vector& RecursiveEstimate::restart(const Vector& now) {
  d_ = now;
  return d_;
}

} // namespace bilevel
