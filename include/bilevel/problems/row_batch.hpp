#pragma once
// The rows of a data split that a per-sample oracle evaluates. A minibatch names its samples by
// global index; each rank holds a contiguous block of a split's rows (LabeledRows::first_row), and
// the softmax kernels run over a matrix of rows. The batch's rows are copied into a matrix of
// their own (64 x 785 doubles, 0.4 MB, for a default batch), which the kernels then read from
// cache; the rest of the split is not touched.
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/finite_sum.hpp"

#include <span>

namespace bilevel {

/// The split whose rows are `role`'s samples in the data-driven finite sums: g sums over the
/// training rows, f over the validation rows.
const LabeledRows& sample_split(const FashionMnist& data, SampleRole role);

/// The global sample indices this rank's rows of `split` cover.
SampleRange owned_samples(const LabeledRows& split);

/// The rows of `split` at the global indices `owned`, in that order, an index given twice giving
/// its row twice. Each index must be one of this rank's rows (std::logic_error otherwise: the
/// caller hands each rank the batch's indices it owns). The result is a split of its own:
/// first_row 0, global_rows the batch size, no corruption record.
LabeledRows batch_rows(const LabeledRows& split, std::span<const long long> owned);

} // namespace bilevel
