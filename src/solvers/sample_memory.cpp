#include "bilevel/solvers/sample_memory.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/io/hdf5.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace bilevel {

namespace {

/// A Vec laid out like a table: this rank's columns, one after the other, at their place in
/// global sample order.
OwnedVec table_vec(MPI_Comm comm, Eigen::Index local_size, long long global_size) {
  OwnedVec v;
  BB_PETSC(VecCreateMPI(comm, static_cast<PetscInt>(local_size), static_cast<PetscInt>(global_size),
                        v.receive()));
  return v;
}

void write_table(MPI_Comm comm, hid_t group, const std::string& name, const double* local,
                 Eigen::Index local_size, long long global_size) {
  OwnedVec v = table_vec(comm, local_size, global_size);
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(v, &a));
  std::copy_n(local, local_size, a);
  BB_PETSC(VecRestoreArray(v, &a));
  h5::write_vec(group, name, v);
}

void read_table(MPI_Comm comm, hid_t group, const std::string& name, double* local,
                Eigen::Index local_size, long long global_size) {
  OwnedVec v = table_vec(comm, local_size, global_size);
  h5::read_vec(group, name, v);
  const PetscScalar* a = nullptr;
  BB_PETSC(VecGetArrayRead(v, &a));
  std::copy_n(a, local_size, local);
  BB_PETSC(VecRestoreArrayRead(v, &a));
}

/// Writes every page of `data` now. GCC turns an allocation followed by a zero fill into calloc,
/// whose fresh pages the kernel maps only at their first write: the tables would otherwise fault
/// page by page in the timed steps that first store each sample (SABA on hyperclean: 29 ms per
/// iteration over its first 200 instead of 15 ms). Volatile stores cannot be folded away.
void touch_pages(double* data, Eigen::Index size) {
  constexpr Eigen::Index kDoublesPerPage = 4096 / sizeof(double);
  volatile double* const page = data;
  for (Eigen::Index i = 0; i < size; i += kDoublesPerPage)
    page[i] = 0.0;
}

} // namespace

SampleMemory::SampleMemory(SampleRange owned, long long samples, Eigen::Index dim, XLayout layout)
    : owned_(owned), samples_(samples), layout_(layout), mean_(Vector::Zero(dim)) {
  const auto count = static_cast<Eigen::Index>(owned.count);
  if (layout == XLayout::dense) {
    table_ = Eigen::MatrixXd::Zero(dim, count);
    touch_pages(table_.data(), table_.size());
  } else if (layout == XLayout::one_entry) {
    entries_.assign(static_cast<std::size_t>(count), -1);
    values_ = Vector::Zero(count);
    touch_pages(values_.data(), values_.size());
  }
}

Eigen::Index SampleMemory::table_column(std::span<const long long> owned, std::size_t k) const {
  if (!owned_.owns(owned[k]))
    throw std::logic_error("SampleMemory: a sample this rank does not own");
  return static_cast<Eigen::Index>(owned[k] - owned_.first);
}

bool SampleMemory::first_occurrence(std::span<const long long> owned, std::size_t k) {
  return std::find(owned.begin(), owned.begin() + static_cast<std::ptrdiff_t>(k), owned[k]) ==
         owned.begin() + static_cast<std::ptrdiff_t>(k);
}

SampleMemory::Staged SampleMemory::stage(std::span<const long long> owned,
                                         const Eigen::MatrixXd& terms) {
  if (layout_ != XLayout::dense)
    throw std::logic_error("SampleMemory: dense columns for a compact memory");
  const Eigen::Index dim = table_.rows();
  Staged s{Vector::Zero(dim), Vector::Zero(dim)};
  for (std::size_t k = 0; k < owned.size(); ++k) {
    const Vector change =
        terms.col(static_cast<Eigen::Index>(k)) - table_.col(table_column(owned, k));
    s.direction += change;
    if (first_occurrence(owned, k))
      s.mean_change += change;
  }
  s.mean_change /= static_cast<double>(samples_);
  // Stored after every difference is taken: a repeat must see the memory of before the step.
  for (std::size_t k = 0; k < owned.size(); ++k)
    table_.col(table_column(owned, k)) = terms.col(static_cast<Eigen::Index>(k));
  return s;
}

SampleMemory::Staged SampleMemory::stage(std::span<const long long> owned, const XColumns& terms) {
  if (terms.layout() != layout_)
    throw std::logic_error("SampleMemory: columns in another layout than the memory's");
  switch (layout_) {
  case XLayout::dense:
    return stage(owned, terms.dense_columns());
  case XLayout::one_entry:
    return stage_one_entry(owned, terms);
  case XLayout::zero:
    break;
  }
  for (std::size_t k = 0; k < owned.size(); ++k)
    table_column(owned, k);
  return {Vector::Zero(mean_.size()), Vector::Zero(mean_.size())};
}

SampleMemory::Staged SampleMemory::stage_one_entry(std::span<const long long> owned,
                                                   const XColumns& terms) {
  Staged s{Vector::Zero(mean_.size()), Vector::Zero(mean_.size())};
  // The dense change term - memory has (at most) two nonzeros: the new value at the new entry,
  // minus the stored value at the stored one; one entry, new - stored, when they coincide (a
  // sample keeps its entry) or nothing is stored yet (value 0).
  const auto add_change = [&](Vector& to, Eigen::Index c, Eigen::Index entry, double value) {
    const Eigen::Index stored = entries_[static_cast<std::size_t>(c)];
    if (stored < 0 || stored == entry) {
      to[entry] += value - values_[c];
    } else {
      to[entry] += value;
      to[stored] += -values_[c];
    }
  };
  for (std::size_t k = 0; k < owned.size(); ++k) {
    const Eigen::Index c = table_column(owned, k);
    const Eigen::Index entry = terms.entries()[k];
    const double value = terms.values()[static_cast<Eigen::Index>(k)];
    add_change(s.direction, c, entry, value);
    if (first_occurrence(owned, k))
      add_change(s.mean_change, c, entry, value);
  }
  s.mean_change /= static_cast<double>(samples_);
  for (std::size_t k = 0; k < owned.size(); ++k) {
    const Eigen::Index c = table_column(owned, k);
    entries_[static_cast<std::size_t>(c)] = terms.entries()[k];
    values_[c] = terms.values()[static_cast<Eigen::Index>(k)];
  }
  return s;
}

SampleMemory::Vector SampleMemory::finish(const Staged& reduced, long long batch_size) {
  Vector estimate = reduced.direction / static_cast<double>(batch_size) + mean_;
  mean_ += reduced.mean_change;
  return estimate;
}

void SampleMemory::save(MPI_Comm comm, hid_t group, const std::string& name) const {
  if (layout_ == XLayout::dense)
    write_table(comm, group, name, table_.data(), table_.size(), samples_ * table_.rows());
  if (layout_ == XLayout::one_entry) {
    write_table(comm, group, name, values_.data(), values_.size(), samples_);
    const Vector entries = Eigen::Map<const Eigen::Matrix<Eigen::Index, Eigen::Dynamic, 1>>(
                               entries_.data(), values_.size())
                               .cast<double>();
    write_table(comm, group, name + "_entries", entries.data(), entries.size(), samples_);
  }
  h5::write_dense(comm, group, name + "_mean",
                  std::vector<double>(mean_.data(), mean_.data() + mean_.size()),
                  static_cast<hsize_t>(mean_.size()), 0);
}

void SampleMemory::load(MPI_Comm comm, hid_t group, const std::string& name) {
  if (layout_ == XLayout::dense)
    read_table(comm, group, name, table_.data(), table_.size(), samples_ * table_.rows());
  if (layout_ == XLayout::one_entry) {
    read_table(comm, group, name, values_.data(), values_.size(), samples_);
    Vector entries(values_.size());
    read_table(comm, group, name + "_entries", entries.data(), entries.size(), samples_);
    for (Eigen::Index c = 0; c < entries.size(); ++c)
      entries_[static_cast<std::size_t>(c)] = static_cast<Eigen::Index>(entries[c]);
  }
  const std::vector<double> mean = h5::read_all(group, name + "_mean");
  if (static_cast<Eigen::Index>(mean.size()) != mean_.size())
    throw InputError("restart file: /state/" + name + "_mean has the wrong length");
  mean_ = Eigen::Map<const Vector>(mean.data(), mean_.size());
}

} // namespace bilevel
