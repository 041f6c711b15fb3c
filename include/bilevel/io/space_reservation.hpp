#pragma once
// Disk space claimed ahead of HDF5's writes. A write that fails for want of space inside a
// collective HDF5 call leaves the other ranks waiting in that call, and a failed metadata write
// leaves an unreadable file. So before each batch of writes rank 0 allocates (posix_fallocate)
// the space the batch may need; when that fails, every rank learns it before HDF5 writes
// anything, and the file stays as its last flush left it. After each flush the unused part of
// the claim is given back, so the file ends where HDF5's allocation ends.
#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace bilevel {

class SpaceReservation {
public:
  /// For the HDF5 file `file` on comm (rank 0 opens the path a second time to allocate).
  SpaceReservation(MPI_Comm comm, hid_t file);
  ~SpaceReservation();
  SpaceReservation(const SpaceReservation&) = delete;
  SpaceReservation& operator=(const SpaceReservation&) = delete;

  /// Before a batch of writes: makes sure `bytes`, plus twice the most any batch has added so
  /// far, are allocated past the file's current end (collective). Throws IoError on every rank,
  /// naming the file and the reason, when they cannot be.
  void claim(hsize_t bytes);
  /// After the batch's flush: notes how much it added (rank 0, no communication).
  void settle();

private:
  MPI_Comm comm_;
  std::string path_;
  int fd_ = -1;               ///< rank 0 only
  int open_error_ = 0;        ///< errno of rank 0's open, reported by the first claim()
  hsize_t end_at_claim_ = 0;  ///< where the file's allocation ended when the batch began
  hsize_t largest_batch_ = 0; ///< bytes, the most one batch added
};

} // namespace bilevel
