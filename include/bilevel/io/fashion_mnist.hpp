#pragma once
// Fashion-MNIST as Debian's dataset-fashion-mnist package ships it (gzip'd IDX under
// /usr/share/datasets/fashion-mnist), split into train / validation (from the 60 000 training
// images) and test (from the 10 000 t10k images). Each rank keeps a contiguous block of every
// split's rows; pixels are scaled to [0, 1] and a constant 1 is appended as the bias feature.
#include <Eigen/Dense>
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bilevel {

/// A feature matrix as the 8-bit values it was read from (column-major).
using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

struct LabeledRows {
  /// The value of a byte that stands for the feature 1: features == bytes / kByteLevels.
  static constexpr double kByteLevels = 255.0;

  Eigen::MatrixXd features; ///< local rows x (pixels + 1), column-major
  /// The same features as 8-bit values when they are 8-bit (Fashion-MNIST's pixels, and 255
  /// for the bias): features(i, j) == bytes(i, j) / kByteLevels, entry by entry. The one-pass
  /// softmax oracles read these, 8 times fewer bytes than `features`; empty when the features
  /// are not 8-bit (projected by PCA, synthetic). Whoever changes `features` clears them.
  ByteMatrix bytes;
  std::vector<int> labels;   ///< local labels in [0, classes)
  long long global_rows = 0; ///< rows of the split over all ranks
  long long first_row = 0;   ///< global index of this rank's first row
  /// Training split only: which local labels the loader corrupted (hyper-cleaning reports how
  /// much sample weight lands on them); empty for the other splits.
  std::vector<bool> corrupted;
};

/// The doubles that 8-bit features stand for, bytes / LabeledRows::kByteLevels entry by entry:
/// the one definition of LabeledRows::features from LabeledRows::bytes.
Eigen::MatrixXd features_from_bytes(const ByteMatrix& bytes);

struct FashionMnistConfig {
  std::string directory = "/usr/share/datasets/fashion-mnist";
  long long train = 5000, validation = 5000, test = 10000;
  double corruption = 0.0; ///< probability that a training label is replaced by a random one
  long long seed = 0;

  /// The rules between fields (InputError): train + validation come from the 60 000 training
  /// images, test from the 10 000 t10k ones.
  void check() const;
};

struct FashionMnist {
  static constexpr int kClasses = 10;
  static constexpr int kPixels = 784;
  LabeledRows train, validation, test;
};

/// Reads the data options shared by the Fashion-MNIST problems (-problem_data_dir, -problem_train,
/// -problem_val, -problem_test, -problem_corruption) into the caller's option section;
/// `defaults` holds the values of the options not given; `seed` (the run's) draws the corruption.
FashionMnistConfig fashion_mnist_options(const FashionMnistConfig& defaults, long long seed);

/// Writes the data settings as attributes of `group` (train, validation, test, corruption,
/// data_directory: the names docs/result-format.md gives the exported problems).
void export_fashion_mnist_config(hid_t group, const FashionMnistConfig& config);

/// Loads this rank's rows of each split (collective only in the sense that every rank reads).
/// InputError naming the Debian package when the files are missing.
FashionMnist load_fashion_mnist(MPI_Comm comm, const FashionMnistConfig& config);

/// The block [begin, end) of n rows that `rank` of `size` owns.
void block_partition(long long n, int rank, int size, long long& begin, long long& end);

} // namespace bilevel
