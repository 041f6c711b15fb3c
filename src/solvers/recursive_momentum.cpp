#include "bilevel/solvers/recursive_momentum.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/io/hdf5.hpp"

namespace bilevel {

const Eigen::VectorXd& RecursiveMomentum::update(const Eigen::VectorXd& now,
                                                 const Eigen::VectorXd& before, double alpha) {
  direction_ = now + (1.0 - alpha) * (direction_ - before);
  return direction_;
}

void RecursiveMomentum::save(MPI_Comm comm, hid_t group, const std::string& name) const {
  h5::write_dense(comm, group, name,
                  std::vector<double>(direction_.data(), direction_.data() + direction_.size()),
                  static_cast<hsize_t>(direction_.size()), 0);
}

void RecursiveMomentum::load(hid_t group, const std::string& name) {
  const std::vector<double> d = h5::read_all(group, name);
  if (static_cast<Eigen::Index>(d.size()) != direction_.size())
    throw InputError("restart file: /state/" + name + " has the wrong length");
  direction_ = Eigen::Map<const Eigen::VectorXd>(d.data(), direction_.size());
}

} // namespace bilevel
