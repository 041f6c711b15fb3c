#include "bilevel/problems/dense_row_pass.hpp"

#include "bilevel/core/collective_ledger.hpp"
#include "bilevel/core/error.hpp"

#include <algorithm>

namespace bilevel {

namespace {

// Bytes of A per block: 256 KiB, a quarter of the 1 MiB L2 of the machine in
// docs/performance.md, so the block, its products and weights stay cached between the two
// products. At d = 10 columns that is 3 272 rows.
constexpr PetscInt kBlockBytes = 256 * 1024;
// Rows per block are a multiple of this (whole cache lines of each column) and at least this.
constexpr PetscInt kRowGrain = 8;

PetscInt block_rows(PetscInt columns) {
  const PetscInt rows = kBlockBytes / (static_cast<PetscInt>(sizeof(double)) * columns);
  return std::max(kRowGrain, rows / kRowGrain * kRowGrain);
}

} // namespace

void DenseRowPass::operator()(Mat a, Vec x, Vec out,
                              const std::function<void(DenseRowBlock&)>& visit) {
  PetscInt local_rows = 0, columns = 0, lda = 0;
  BB_PETSC(MatGetLocalSize(a, &local_rows, nullptr));
  BB_PETSC(MatGetSize(a, nullptr, &columns));
  BB_PETSC(MatDenseGetLDA(a, &lda));
  const Eigen::VectorXd* whole_x = x ? &gather_.gather(x) : nullptr;
  const PetscInt block = block_rows(columns);
  products_.resize(x ? block : 0);
  weights_.resize(out ? block : 0);
  if (out)
    sum_.setZero(columns);

  const PetscScalar* values = nullptr;
  BB_PETSC(MatDenseGetArrayRead(a, &values));
  using Block = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;
  for (PetscInt first = 0; first < local_rows; first += block) {
    const PetscInt rows = std::min(block, local_rows - first);
    const Block a_b(values + first, rows, columns, Eigen::OuterStride<>(lda));
    if (x)
      products_.head(rows).noalias() = a_b * *whole_x;
    if (out)
      weights_.head(rows).setZero();
    DenseRowBlock view{first, rows,
                       Eigen::Map<const Eigen::VectorXd>(products_.data(), x ? rows : 0),
                       Eigen::Map<Eigen::VectorXd>(weights_.data(), out ? rows : 0)};
    visit(view);
    if (out)
      sum_.noalias() += a_b.transpose() * weights_.head(rows);
  }
  BB_PETSC(MatDenseRestoreArrayRead(a, &values));

  if (!out)
    return;
  MPI_Comm comm = MPI_COMM_NULL;
  BB_PETSC(PetscObjectGetComm(reinterpret_cast<PetscObject>(a), &comm));
  logged_allreduce(comm, sum_.data(), static_cast<int>(columns), MPI_SUM);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(out, &begin, &end));
  PetscScalar* owned = nullptr;
  BB_PETSC(VecGetArrayWrite(out, &owned));
  std::copy(sum_.data() + begin, sum_.data() + end, owned);
  BB_PETSC(VecRestoreArrayWrite(out, &owned));
}

} // namespace bilevel
