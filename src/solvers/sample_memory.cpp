#include "bilevel/solvers/sample_memory.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/io/hdf5.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace bilevel {

namespace {

/// A Vec laid out like the table: this rank's columns, one after the other, at their place in
/// global sample order.
OwnedVec table_vec(MPI_Comm comm, Eigen::Index local_size, long long global_size) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm, static_cast<PetscInt>(local_size), static_cast<PetscInt>(global_size),
                        v.receive()));
  return v;
}

} // namespace

SampleMemory::SampleMemory(SampleRange owned, long long samples, Eigen::Index dim)
    : owned_(owned), samples_(samples),
      table_(Eigen::MatrixXd::Zero(dim, static_cast<Eigen::Index>(owned.count))),
      mean_(Vector::Zero(dim)) {}

SampleMemory::Staged SampleMemory::stage(std::span<const long long> owned,
                                         const Eigen::MatrixXd& terms) {
  const Eigen::Index dim = table_.rows();
  Staged s{Vector::Zero(dim), Vector::Zero(dim)};
  std::vector<long long> seen;
  for (std::size_t k = 0; k < owned.size(); ++k) {
    if (!owned_.owns(owned[k]))
      throw std::logic_error("SampleMemory: a sample this rank does not own");
    const auto c = static_cast<Eigen::Index>(owned[k] - owned_.first);
    const Vector change = terms.col(static_cast<Eigen::Index>(k)) - table_.col(c);
    s.direction += change;
    // A sample drawn twice in one batch counts twice in the direction but replaces its memory
    // once.
    if (std::find(seen.begin(), seen.end(), owned[k]) == seen.end()) {
      seen.push_back(owned[k]);
      s.mean_change += change;
    }
  }
  s.mean_change /= static_cast<double>(samples_);
  // Stored after every difference is taken: a repeat must see the memory of before the step.
  for (std::size_t k = 0; k < owned.size(); ++k)
    table_.col(static_cast<Eigen::Index>(owned[k] - owned_.first)) =
        terms.col(static_cast<Eigen::Index>(k));
  return s;
}

SampleMemory::Vector SampleMemory::finish(const Staged& reduced, long long batch_size) {
  Vector estimate = reduced.direction / static_cast<double>(batch_size) + mean_;
  mean_ += reduced.mean_change;
  return estimate;
}

void SampleMemory::save(MPI_Comm comm, hid_t group, const std::string& name) const {
  OwnedVec v = table_vec(comm, table_.size(), samples_ * table_.rows());
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(v, &a));
  std::copy_n(table_.data(), table_.size(), a);
  BB_PETSC(VecRestoreArray(v, &a));
  h5::write_vec(group, name, v);
  h5::write_dense(comm, group, name + "_mean",
                  std::vector<double>(mean_.data(), mean_.data() + mean_.size()),
                  static_cast<hsize_t>(mean_.size()), 0);
}

void SampleMemory::load(MPI_Comm comm, hid_t group, const std::string& name) {
  OwnedVec v = table_vec(comm, table_.size(), samples_ * table_.rows());
  h5::read_vec(group, name, v);
  const PetscScalar* a = nullptr;
  BB_PETSC(VecGetArrayRead(v, &a));
  std::copy_n(a, table_.size(), table_.data());
  BB_PETSC(VecRestoreArrayRead(v, &a));
  const std::vector<double> mean = h5::read_all(group, name + "_mean");
  if (static_cast<Eigen::Index>(mean.size()) != mean_.size())
    throw InputError("restart file: /state/" + name + "_mean has the wrong length");
  mean_ = Eigen::Map<const Vector>(mean.data(), mean_.size());
}

} // namespace bilevel
