#include "bilevel/problems/row_batch.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace bilevel {

namespace {

/// The global sample indices this rank's rows of `split` cover.
SampleRange owned_samples(const LabeledRows& split) {
  return {split.first_row, static_cast<long long>(split.labels.size())};
}

const LabeledRows& sample_split(const FashionMnist& data, SampleRole role) {
  return role == SampleRole::lower ? data.train : data.validation;
}

} // namespace

LabeledRows batch_rows(const LabeledRows& split, std::span<const long long> owned) {
  const SampleRange range = owned_samples(split);
  std::vector<Eigen::Index> local(owned.size());
  LabeledRows batch;
  batch.labels.resize(owned.size());
  for (std::size_t k = 0; k < owned.size(); ++k) {
    if (!range.owns(owned[k]))
      throw std::logic_error("batch_rows: sample " + std::to_string(owned[k]) +
                             " is not among this rank's rows [" + std::to_string(range.first) +
                             ", " + std::to_string(range.first + range.count) + ")");
    local[k] = static_cast<Eigen::Index>(owned[k] - range.first);
    batch.labels[k] = split.labels[static_cast<std::size_t>(local[k])];
  }
  // Column by column: the features are column-major, so each column of the batch is written
  // contiguously while its entries are gathered from the split's column. Every entry is a cache
  // miss, so 8-bit features are gathered once and the doubles computed from them (the
  // loader's values: features_from_bytes), not gathered a second time.
  if (split.bytes.size() != 0) {
    batch.bytes = split.bytes(local, Eigen::all);
    batch.features = features_from_bytes(batch.bytes);
  } else {
    batch.features = split.features(local, Eigen::all);
  }
  batch.global_rows = static_cast<long long>(owned.size());
  return batch;
}

long long DataSplitSums::samples(SampleRole role) const {
  return sample_split(data(), role).global_rows;
}

SampleRange DataSplitSums::local_samples(SampleRole role) const {
  return owned_samples(sample_split(data(), role));
}

LabeledRows DataSplitSums::rows_of(SampleRole role, std::span<const long long> owned) const {
  return batch_rows(sample_split(data(), role), owned);
}

} // namespace bilevel
