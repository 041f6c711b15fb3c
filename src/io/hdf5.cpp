#include "bilevel/io/hdf5.hpp"

#include "bilevel/core/error.hpp"

#include <petscdmda.h>

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>

namespace bilevel::h5 {

namespace {

/// The text between `opening` and the next quote in `text`, if `opening` occurs.
std::optional<std::string> quoted_after(const std::string& text, const std::string& opening) {
  const std::size_t begin = text.find(opening);
  if (begin == std::string::npos)
    return std::nullopt;
  const std::size_t start = begin + opening.size();
  const std::size_t end = text.find('\'', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

herr_t keep_innermost(unsigned depth, const H5E_error2_t* error, void* data) {
  if (depth == 0)
    *static_cast<std::string*>(data) = error->desc ? error->desc : "";
  return 0;
}

/// The innermost description on HDF5's error stack, shortened to the operating system's or the
/// MPI library's reason when it quotes one (its full text lists buffers and offsets).
std::string stack_reason() {
  std::string innermost;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &innermost);
  H5Eclear2(H5E_DEFAULT);
  for (const char* opening : {"error message = '", "MPI error string is '"})
    if (auto reason = quoted_after(innermost, opening))
      return *reason;
  return innermost.empty() ? "unknown HDF5 error" : innermost;
}

} // namespace

hid_t check(hid_t id, const char* what) {
  if (id < 0)
    throw Failure(std::string(what) + ": " + stack_reason());
  return id;
}

void silence_errors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string file_name(hid_t loc) {
  const ssize_t length = H5Fget_name(loc, nullptr, 0);
  if (length <= 0)
    return "?";
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  H5Fget_name(loc, name.data(), name.size());
  name.resize(static_cast<std::size_t>(length));
  return name;
}

namespace {

/// The operating system's reason for a failed write, which HDF5's MPI-IO driver does not pass
/// on (MPI-IO reports a full disk as a short write): the file system of `path` is full.
std::string with_os_reason(const std::string& path, const std::string& reason) {
  const auto parent = std::filesystem::path(path).parent_path();
  struct statvfs stats {};
  if (statvfs(parent.empty() ? "." : parent.c_str(), &stats) == 0 && stats.f_bavail == 0)
    return std::string(std::strerror(ENOSPC)) + " (" + reason + ")";
  return reason;
}

} // namespace

void settle(MPI_Comm comm, hid_t loc, const std::string& reason) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int first_failing = reason.empty() ? size : rank;
  MPI_Allreduce(MPI_IN_PLACE, &first_failing, 1, MPI_INT, MPI_MIN, comm);
  if (first_failing == size)
    return;
  std::string message = reason.empty() ? reason : with_os_reason(file_name(loc), reason);
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, first_failing, comm);
  message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, first_failing, comm);
  throw IoError("writing '" + file_name(loc) + "' failed on rank " + std::to_string(first_failing) +
                ": " + message);
}

File open_file(MPI_Comm comm, const std::string& path, const std::string& mode) {
  PropertyList access(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"));
  check(H5Pset_fapl_mpio(access, comm, MPI_INFO_NULL), "H5Pset_fapl_mpio");
  hid_t id = H5I_INVALID_HID;
  // Our own messages replace HDF5's multi-line error stacks for expected failures.
  H5E_BEGIN_TRY {
    if (mode == "w")
      id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access);
    else
      id = H5Fopen(path.c_str(), mode == "r+" ? H5F_ACC_RDWR : H5F_ACC_RDONLY, access);
  }
  H5E_END_TRY;
  if (id < 0) {
    if (mode == "w")
      throw InputError("cannot create HDF5 file '" + path +
                       "': check that its directory exists and is writable");
    if (!std::filesystem::exists(path))
      throw InputError("file '" + path + "' does not exist");
    throw InputError("cannot open '" + path + "' as an HDF5 file");
  }
  return File(id);
}

bool exists(hid_t loc, const std::string& path) {
  // Check every prefix: H5Lexists fails on a path whose parent is missing.
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (!part.empty()) {
      prefix += (prefix.empty() ? "" : "/") + part;
      htri_t found = 0;
      H5E_BEGIN_TRY {
        found = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
      }
      H5E_END_TRY;
      if (found <= 0)
        return false;
    }
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return true;
}

Group require_group(hid_t loc, const std::string& path) {
  if (path.empty() || path == "/")
    return Group(check(H5Gopen2(loc, "/", H5P_DEFAULT), "H5Gopen2 /"));
  if (exists(loc, path))
    return Group(check(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), "H5Gopen2"));
  PropertyList create(check(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate"));
  check(H5Pset_create_intermediate_group(create, 1), "H5Pset_create_intermediate_group");
  return Group(
      check(H5Gcreate2(loc, path.c_str(), create, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2"));
}

namespace {

void replace_attribute(hid_t loc, const std::string& name, hid_t type, const void* value) {
  if (H5Aexists(loc, name.c_str()) > 0)
    check(H5Adelete(loc, name.c_str()), "H5Adelete");
  Dataspace space(check(H5Screate(H5S_SCALAR), "H5Screate"));
  Attribute attr(
      check(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2"));
  check(H5Awrite(attr, type, value), "H5Awrite");
}

/// Opens a dataset a user's file should hold; InputError if it is missing or something else.
Dataset open_stored_dataset(hid_t loc, const std::string& name) {
  if (!exists(loc, name))
    throw InputError("HDF5 dataset '" + name + "' is missing");
  const hid_t id = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (id < 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError("HDF5 object '" + name + "' is not a dataset");
  }
  return Dataset(id);
}

void replace_dataset_check(hid_t loc, const std::string& name) {
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0)
    check(H5Ldelete(loc, name.c_str(), H5P_DEFAULT), "H5Ldelete");
}

} // namespace

void write_attribute(hid_t loc, const std::string& name, const std::string& value) {
  // Fixed-length strings: safe in parallel HDF5 and readable by every tool.
  Datatype type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
  check(H5Tset_size(type, value.empty() ? 1 : value.size()), "H5Tset_size");
  check(H5Tset_strpad(type, H5T_STR_NULLPAD), "H5Tset_strpad");
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  replace_attribute(loc, name, type, padded.data());
}

void write_attribute(hid_t loc, const std::string& name, long long value) {
  replace_attribute(loc, name, H5T_NATIVE_LLONG, &value);
}

void write_attribute(hid_t loc, const std::string& name, double value) {
  replace_attribute(loc, name, H5T_NATIVE_DOUBLE, &value);
}

std::string read_string_attribute(hid_t loc, const std::string& name) {
  if (H5Aexists(loc, name.c_str()) <= 0)
    throw InputError("HDF5 attribute '" + name + "' is missing");
  Attribute attr(check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "H5Aopen"));
  Datatype type(check(H5Aget_type(attr), "H5Aget_type"));
  if (H5Tget_class(type) != H5T_STRING)
    throw InputError("HDF5 attribute '" + name + "' is not a string");
  if (H5Tis_variable_str(type) > 0) {
    char* text = nullptr;
    Datatype memtype(check(H5Tget_native_type(type, H5T_DIR_DEFAULT), "H5Tget_native_type"));
    check(H5Aread(attr, memtype, &text), "H5Aread");
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  std::string out(H5Tget_size(type), '\0');
  check(H5Aread(attr, type, out.data()), "H5Aread");
  return out.substr(0, out.find('\0'));
}

long long read_int_attribute(hid_t loc, const std::string& name) {
  if (H5Aexists(loc, name.c_str()) <= 0)
    throw InputError("HDF5 attribute '" + name + "' is missing");
  Attribute attr(check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "H5Aopen"));
  long long value = 0;
  check(H5Aread(attr, H5T_NATIVE_LLONG, &value), "H5Aread");
  return value;
}

double read_real_attribute(hid_t loc, const std::string& name) {
  if (H5Aexists(loc, name.c_str()) <= 0)
    throw InputError("HDF5 attribute '" + name + "' is missing");
  Attribute attr(check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "H5Aopen"));
  double value = 0;
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, &value), "H5Aread");
  return value;
}

namespace {

/// The DMDA whose natural order `v` must be stored in, or null when v's global order is already
/// natural (a Vec without a DM: VecCreateMPI gives each rank a contiguous range of indices). A
/// DMDA Vec holds each rank's block of the grid contiguously, an order that changes with the
/// process grid, so files would otherwise differ between rank counts.
DM natural_order_dm(Vec v) {
  DM dm = nullptr;
  BB_PETSC(VecGetDM(v, &dm));
  if (!dm)
    return nullptr;
  PetscBool is_dmda = PETSC_FALSE;
  BB_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(dm), DMDA, &is_dmda));
  if (!is_dmda) {
    // Fail loudly rather than write another DM's internal order as if it were natural.
    DMType type = nullptr;
    BB_PETSC(DMGetType(dm, &type));
    throw RuntimeFailure(
        std::string("HDF5 Vec I/O: no natural ordering for a Vec on a DM of type ") +
        (type ? type : "(unset)"));
  }
  return dm;
}

/// Selects v's ownership range [begin, end) in the 1-D file space; returns the memory space of
/// this rank's end - begin values.
Dataspace select_owned(hid_t file_space, Vec v) {
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  const hsize_t start[1] = {static_cast<hsize_t>(begin)};
  const hsize_t count[1] = {static_cast<hsize_t>(end - begin)};
  check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr),
        "H5Sselect_hyperslab");
  return Dataspace(check(H5Screate_simple(1, count, nullptr), "H5Screate_simple"));
}

/// Writes v's ownership range at the same indices of a new dataset: natural order when v's
/// global order is natural.
void write_owned_ranges(hid_t loc, const std::string& name, Vec v) {
  MPI_Comm comm = MPI_COMM_NULL;
  PetscInt global = 0;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(v), &comm));
  BB_PETSC(VecGetSize(v, &global));
  const hsize_t dims[1] = {static_cast<hsize_t>(global)};
  Dataspace file_space, mem_space;
  Dataset dataset;
  PropertyList transfer;
  // Written under a temporary name and renamed once whole, so a failed write (a full disk)
  // keeps the previous dataset. Agreed before the collective write, so no rank enters it alone.
  const std::string partial = name + "~";
  agree(comm, loc, [&] {
    replace_dataset_check(loc, partial);
    file_space = Dataspace(check(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"));
    dataset = Dataset(check(H5Dcreate2(loc, partial.c_str(), H5T_NATIVE_DOUBLE, file_space,
                                       H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            "H5Dcreate2"));
    mem_space = select_owned(file_space, v);
    transfer = PropertyList(check(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate"));
    check(H5Pset_dxpl_mpio(transfer, H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
  });
  const PetscScalar* values = nullptr;
  BB_PETSC(VecGetArrayRead(v, &values));
  const herr_t status =
      H5Dwrite(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space, transfer, values);
  BB_PETSC(VecRestoreArrayRead(v, &values));
  agree(comm, loc, [&] {
    check(status, "H5Dwrite (collective Vec)");
    dataset.reset();
    replace_dataset_check(loc, name);
    check(H5Lmove(loc, partial.c_str(), loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT), "H5Lmove");
  });
}

/// Reads the dataset's values at v's ownership range into v, after checking its shape.
void read_owned_ranges(hid_t loc, const std::string& name, Vec v) {
  Dataset dataset = open_stored_dataset(loc, name);
  Dataspace file_space(check(H5Dget_space(dataset), "H5Dget_space"));
  PetscInt global = 0;
  BB_PETSC(VecGetSize(v, &global));
  hsize_t dims[1] = {0};
  if (H5Sget_simple_extent_ndims(file_space) != 1)
    throw InputError("HDF5 dataset '" + name + "' is not 1-D; expected " + std::to_string(global) +
                     " values");
  H5Sget_simple_extent_dims(file_space, dims, nullptr);
  if (dims[0] != static_cast<hsize_t>(global))
    throw InputError("HDF5 dataset '" + name + "' has " + std::to_string(dims[0]) +
                     " values; expected " + std::to_string(global));
  Dataspace mem_space = select_owned(file_space, v);
  PetscScalar* values = nullptr;
  BB_PETSC(VecGetArray(v, &values));
  const herr_t status =
      H5Dread(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, values);
  BB_PETSC(VecRestoreArray(v, &values));
  check(status, "H5Dread");
}

} // namespace

void write_vec(hid_t loc, const std::string& name, Vec v) {
  DM da = natural_order_dm(v);
  if (!da) {
    write_owned_ranges(loc, name, v);
    return;
  }
  OwnedVec natural;
  BB_PETSC(DMDACreateNaturalVector(da, natural.receive()));
  BB_PETSC(DMDAGlobalToNaturalBegin(da, v, INSERT_VALUES, natural));
  BB_PETSC(DMDAGlobalToNaturalEnd(da, v, INSERT_VALUES, natural));
  write_owned_ranges(loc, name, natural);
}

void read_vec(hid_t loc, const std::string& name, Vec v) {
  DM da = natural_order_dm(v);
  if (!da) {
    read_owned_ranges(loc, name, v);
  } else {
    OwnedVec natural;
    BB_PETSC(DMDACreateNaturalVector(da, natural.receive()));
    read_owned_ranges(loc, name, natural);
    BB_PETSC(DMDANaturalToGlobalBegin(da, natural, INSERT_VALUES, v));
    BB_PETSC(DMDANaturalToGlobalEnd(da, natural, INSERT_VALUES, v));
  }
  PetscReal norm = 0;
  BB_PETSC(VecNorm(v, NORM_INFINITY, &norm));
  if (!std::isfinite(norm))
    throw InputError("HDF5 dataset '" + name + "' contains NaN or Inf");
}

void write_dense(MPI_Comm comm, hid_t loc, const std::string& name, const std::vector<double>& data,
                 hsize_t rows, hsize_t cols) {
  int mpi_rank = 0;
  MPI_Comm_rank(comm, &mpi_rank);
  // The data come from rank 0 alone, an independent write that may fail there alone.
  agree(comm, loc, [&] {
    replace_dataset_check(loc, name);
    const hsize_t dims2[2] = {rows, cols};
    const int rank = cols == 0 ? 1 : 2;
    Dataspace file_space(check(H5Screate_simple(rank, dims2, nullptr), "H5Screate_simple"));
    Dataset dataset(check(H5Dcreate2(loc, name.c_str(), H5T_NATIVE_DOUBLE, file_space, H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                          "H5Dcreate2"));
    if (mpi_rank != 0) {
      check(H5Sselect_none(file_space), "H5Sselect_none");
      check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, file_space, file_space, H5P_DEFAULT, nullptr),
            "H5Dwrite");
      return;
    }
    check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
          "H5Dwrite");
  });
}

std::vector<double> read_all(hid_t loc, const std::string& name) {
  Dataset dataset = open_stored_dataset(loc, name);
  Dataspace space(check(H5Dget_space(dataset), "H5Dget_space"));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<double> out(static_cast<std::size_t>(n));
  if (n > 0)
    check(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
          "H5Dread");
  return out;
}

} // namespace bilevel::h5
