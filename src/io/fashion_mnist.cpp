#include "bilevel/io/fashion_mnist.hpp"

#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/huge_pages.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/io/idx_reader.hpp"

#include <filesystem>

namespace bilevel {

void block_partition(long long n, int rank, int size, long long& begin, long long& end) {
  begin = n * rank / size;
  end = n * (rank + 1) / size;
}

Eigen::MatrixXd features_from_bytes(const ByteMatrix& bytes) {
  return bytes.cast<double>() / LabeledRows::kByteLevels;
}

namespace {

constexpr std::uint64_t kCorruptionStream = 101;

LabeledRows load_rows(MPI_Comm comm, const std::string& images, const std::string& labels,
                      long long first, long long count) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  LabeledRows rows;
  rows.global_rows = count;
  long long begin = 0, end = 0;
  block_partition(count, rank, size, begin, end);
  rows.first_row = begin;
  const auto n = static_cast<std::size_t>(end - begin);
  const IdxData pixels = read_idx(images, static_cast<std::size_t>(first + begin), n);
  const IdxData classes = read_idx(labels, static_cast<std::size_t>(first + begin), n);
  rows.bytes.resize(static_cast<Eigen::Index>(n), FashionMnist::kPixels + 1);
  // Before the first write: the oracles sweep these columns in row blocks (row_block_pass).
  advise_huge_pages(rows.bytes.data(), static_cast<std::size_t>(rows.bytes.size()));
  for (std::size_t i = 0; i < n; ++i) {
    for (int p = 0; p < FashionMnist::kPixels; ++p)
      rows.bytes(static_cast<Eigen::Index>(i), p) =
          pixels.values[i * FashionMnist::kPixels + static_cast<std::size_t>(p)];
    rows.bytes(static_cast<Eigen::Index>(i), FashionMnist::kPixels) =
        static_cast<std::uint8_t>(LabeledRows::kByteLevels);
  }
  rows.features = features_from_bytes(rows.bytes);
  rows.labels.assign(classes.values.begin(), classes.values.end());
  return rows;
}

} // namespace

void FashionMnistConfig::check() const {
  if (train + validation > 60000)
    throw InputError("train + validation = " + std::to_string(train + validation) +
                     " samples; accepted: at most 60000 (the Fashion-MNIST training set)");
  if (test > 10000)
    throw InputError("test = " + std::to_string(test) +
                     " samples; accepted: at most 10000 (the Fashion-MNIST test set)");
}

FashionMnistConfig fashion_mnist_options(const FashionMnistConfig& defaults, long long seed) {
  FashionMnistConfig c{};
  c.directory = options::get_string("-problem_data_dir", defaults.directory,
                                    "directory of the Fashion-MNIST IDX files");
  c.train = options::get_int("-problem_train", defaults.train, 1, 59999, "training samples");
  c.validation =
      options::get_int("-problem_val", defaults.validation, 1, 59999, "validation samples");
  c.test = options::get_int("-problem_test", defaults.test, 1, 10000, "test samples");
  c.corruption = options::get_real("-problem_corruption", defaults.corruption, 0.0, 1.0,
                                   "probability that a training label is corrupted");
  c.seed = seed;
  c.check(); // before any data is read
  return c;
}

void export_fashion_mnist_config(hid_t group, const FashionMnistConfig& config) {
  h5::write_attribute(group, "train", static_cast<long long>(config.train));
  h5::write_attribute(group, "validation", static_cast<long long>(config.validation));
  h5::write_attribute(group, "test", static_cast<long long>(config.test));
  h5::write_attribute(group, "corruption", config.corruption);
  h5::write_attribute(group, "data_directory", config.directory);
}

FashionMnist load_fashion_mnist(MPI_Comm comm, const FashionMnistConfig& config) {
  const std::filesystem::path dir(config.directory);
  const auto train_images = (dir / "train-images-idx3-ubyte.gz").string();
  if (!std::filesystem::exists(train_images))
    throw InputError("Fashion-MNIST not found in '" + config.directory +
                     "': install the Debian package dataset-fashion-mnist "
                     "(scripts/install-deps does), or point -problem_data_dir at its files");
  config.check();
  const auto train_labels = (dir / "train-labels-idx1-ubyte.gz").string();
  FashionMnist data;
  data.train = load_rows(comm, train_images, train_labels, 0, config.train);
  data.validation = load_rows(comm, train_images, train_labels, config.train, config.validation);
  data.test = load_rows(comm, (dir / "t10k-images-idx3-ubyte.gz").string(),
                        (dir / "t10k-labels-idx1-ubyte.gz").string(), 0, config.test);
  // Corrupt training labels by global sample index, so every rank layout corrupts the same ones.
  const CounterRng rng(config.seed, kCorruptionStream);
  data.train.corrupted.assign(data.train.labels.size(), false);
  for (std::size_t i = 0; i < data.train.labels.size(); ++i) {
    const auto global = static_cast<std::uint64_t>(data.train.first_row) + i;
    if (rng.uniform(2 * global) < config.corruption) {
      data.train.corrupted[i] = true;
      const int shift =
          1 + static_cast<int>(rng.uniform(2 * global + 1) * (FashionMnist::kClasses - 1));
      data.train.labels[i] = (data.train.labels[i] + shift) % FashionMnist::kClasses;
    }
  }
  return data;
}

} // namespace bilevel
