#pragma once
// Thin RAII and collective helpers over the HDF5 C API, used by the result writer, the problem
// exporters and -x_from / -restart_from readers. Every function here is collective on the
// file's communicator unless it says otherwise.
#include "bilevel/core/error.hpp"
#include "bilevel/core/petsc_handle.hpp"

#include <hdf5.h>

#include <string>
#include <vector>

namespace bilevel::h5 {

/// Owns one hid_t; `Close` is H5Fclose, H5Gclose, ...
template <herr_t (*Close)(hid_t)> class Id {
public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Id() { reset(); }
  void reset() noexcept {
    if (id_ >= 0)
      (void)Close(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }

private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Id<H5Fclose>;
using Group = Id<H5Gclose>;
using Dataset = Id<H5Dclose>;
using Dataspace = Id<H5Sclose>;
using Attribute = Id<H5Aclose>;
using PropertyList = Id<H5Pclose>;
using Datatype = Id<H5Tclose>;

/// An HDF5 call failed on this rank (perhaps on this rank alone): agree() turns it into an
/// IoError on every rank.
class Failure : public RuntimeFailure {
public:
  using RuntimeFailure::RuntimeFailure;
};

/// Throws Failure("what: <reason>") when an HDF5 call returned a negative value; the reason is
/// the innermost entry of HDF5's error stack (the operating system's, e.g. "No space left on
/// device", when there is one).
hid_t check(hid_t id, const char* what);

/// Stops HDF5 from printing its error stacks: check() and agree() turn them into one line.
void silence_errors();

/// The name of the file that holds `loc`.
std::string file_name(hid_t loc);

/// Throws IoError on every rank of comm, naming the file of `loc` and the reason of the lowest
/// failing rank, if `reason` is non-empty on any rank (collective).
void settle(MPI_Comm comm, hid_t loc, const std::string& reason);

/// Runs `write` (HDF5 calls that may fail on some ranks only, e.g. when the disk fills up) and
/// agrees on the outcome, so that no rank goes on alone into the next collective call and waits
/// there forever. Collective; wrap each step that precedes another collective HDF5 call.
template <class Write> void agree(MPI_Comm comm, hid_t loc, Write&& write) {
  std::string reason;
  try {
    write();
  } catch (const Failure& e) {
    reason = e.what();
  }
  settle(comm, loc, reason);
}

/// Opens (mode "r" / "r+") or creates ("w", truncating) a file with the MPI-IO driver on comm.
/// Failures are InputErrors naming the path.
File open_file(MPI_Comm comm, const std::string& path, const std::string& mode);
/// Opens the group at `path`, creating it (and its parents) if missing.
Group require_group(hid_t loc, const std::string& path);
bool exists(hid_t loc, const std::string& path);

void write_attribute(hid_t loc, const std::string& name, const std::string& value);
void write_attribute(hid_t loc, const std::string& name, long long value);
void write_attribute(hid_t loc, const std::string& name, double value);
std::string read_string_attribute(hid_t loc, const std::string& name);
long long read_int_attribute(hid_t loc, const std::string& name);
double read_real_attribute(hid_t loc, const std::string& name);

/// Writes a distributed Vec as a 1-D float64 dataset (replacing one of the same name),
/// collectively, in natural (global index) order, the same at every rank count: a Vec on a DMDA
/// goes through the grid's natural ordering (i fastest, then j, k), any other Vec is already in
/// it (each rank owns a contiguous range). A Vec on another kind of DM is a RuntimeFailure.
void write_vec(hid_t loc, const std::string& name, Vec v);
/// Reads a 1-D dataset in natural order into a Vec, the inverse of write_vec at any rank count;
/// InputError if its length differs from the Vec's or it holds NaN or Inf.
void read_vec(hid_t loc, const std::string& name, Vec v);
/// Writes a small dense matrix (row-major rows x cols; cols = 0 for a vector) that every rank
/// of `comm` holds, from rank 0.
void write_dense(MPI_Comm comm, hid_t loc, const std::string& name, const std::vector<double>& data,
                 hsize_t rows, hsize_t cols);
/// Reads a whole 1-D float64 dataset on every rank.
std::vector<double> read_all(hid_t loc, const std::string& name);

} // namespace bilevel::h5
