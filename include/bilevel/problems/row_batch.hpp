#pragma once
// The finite sums of the problems on a data set's splits (logreg_hyper, hyperparam_logreg,
// hyperclean), and the rows a per-sample oracle evaluates. g sums over the training rows, f over
// the validation rows; a minibatch names its samples by global index; each rank holds a
// contiguous block of a split's rows (LabeledRows::first_row), and the softmax kernels run over a
// matrix of rows. The batch's rows are copied into a matrix of their own (64 x 785 doubles,
// 0.4 MB, for a default batch), which the kernels then read from cache; the rest of the split is
// not touched. Every column is computed from the batch's rows alone, so a sample's column does
// not depend on how the samples are partitioned across ranks (only its position in the batch can
// change the last bit of its vectorised exponentials).
#include "bilevel/io/fashion_mnist.hpp"
#include "bilevel/problems/finite_sum.hpp"

#include <span>

namespace bilevel {

/// The rows of `split` at the global indices `owned`, in that order, an index given twice giving
/// its row twice. Each index must be one of this rank's rows (std::logic_error otherwise: the
/// caller hands each rank the batch's indices it owns). The result is a split of its own:
/// first_row 0, global_rows the batch size, no corruption record.
LabeledRows batch_rows(const LabeledRows& split, std::span<const long long> owned);

/// FiniteSumProblem's sample layout for a problem on `data()`: lower samples are the training
/// rows, upper samples the validation rows, each rank's samples the rows it holds.
class DataSplitSums : public FiniteSumProblem {
public:
  long long samples(SampleRole role) const final;
  SampleRange local_samples(SampleRole role) const final;
  virtual const FashionMnist& data() const = 0;

protected:
  /// The rows of `role`'s samples at the global indices `owned` (batch_rows on its split).
  LabeledRows rows_of(SampleRole role, std::span<const long long> owned) const;
};

} // namespace bilevel
