#include "bilevel/io/space_reservation.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/io/hdf5.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bilevel {

namespace {

hsize_t size_of(int fd) {
  struct stat stats {};
  return fstat(fd, &stats) == 0 ? static_cast<hsize_t>(stats.st_size) : 0;
}

/// HDF5's end of allocation as its last flush wrote it into the superblock (the "end of file
/// address" of the file format specification), or 0 if the superblock is not one we read.
/// H5Fget_eoa would say it, but it refuses the MPI-IO driver.
hsize_t stored_end_of_allocation(int fd) {
  unsigned char block[64] = {};
  const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (pread(fd, block, sizeof block, 0) != static_cast<ssize_t>(sizeof block) ||
      std::memcmp(block, signature, sizeof signature) != 0)
    return 0;
  const unsigned version = block[8];
  const unsigned offset_size = version <= 1 ? block[13] : block[9];
  // Versions 0 and 1 store the base, free-space and end-of-file addresses from byte 24 (28 in
  // version 1); versions 2 and 3 the base, extension and end-of-file addresses from byte 12.
  const unsigned first_address = version == 0 ? 24 : version == 1 ? 28 : 12;
  const unsigned at = first_address + 2 * offset_size;
  if (version > 3 || offset_size == 0 || offset_size > 8 || at + offset_size > sizeof block)
    return 0;
  hsize_t address = 0;
  for (unsigned i = 0; i < offset_size; ++i)
    address |= static_cast<hsize_t>(block[at + i]) << (8 * i);
  return address;
}

} // namespace

SpaceReservation::SpaceReservation(MPI_Comm comm, hid_t file)
    : comm_(comm), path_(h5::file_name(file)) {
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  if (rank == 0) {
    fd_ = open(path_.c_str(), O_RDWR);
    open_error_ = fd_ < 0 ? errno : 0;
  }
}

SpaceReservation::~SpaceReservation() {
  if (fd_ >= 0)
    close(fd_);
}

void SpaceReservation::claim(hsize_t bytes) {
  int error = open_error_;
  if (fd_ >= 0) {
    end_at_claim_ = std::max(stored_end_of_allocation(fd_), size_of(fd_));
    bytes += 2 * largest_batch_;
    error = posix_fallocate(fd_, 0, static_cast<off_t>(end_at_claim_ + bytes));
  }
  MPI_Bcast(&error, 1, MPI_INT, 0, comm_);
  if (error != 0)
    throw IoError("writing '" + path_ + "' failed on rank 0: " + std::strerror(error) +
                  " (claiming space for the next write)");
}

void SpaceReservation::settle() {
  if (fd_ < 0)
    return;
  const hsize_t end = stored_end_of_allocation(fd_);
  if (end == 0)
    return;
  // HDF5 truncates the file to its end of allocation at a flush only when that end moved:
  // the unused claim is given back here either way.
  if (end > end_at_claim_)
    largest_batch_ = std::max(largest_batch_, end - end_at_claim_);
  if (size_of(fd_) > end && ftruncate(fd_, static_cast<off_t>(end)) != 0)
    return; // the slack stays; the next claim allocates from its end
}

} // namespace bilevel
