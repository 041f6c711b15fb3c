#include "free_set_extraction.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/principal_submatrix.hpp"

#include <vector>

namespace bench {

namespace {

// Whether row i is free: a fixed hash of i, so every rank count draws the same set.
bool free_row(PetscInt i) {
  return (static_cast<unsigned long long>(i) * 2654435761ULL) % 100 < 74;
}

} // namespace

FreeSetExtraction::FreeSetExtraction(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  const PetscInt n = kRowsPerRank * size;
  BB_PETSC(
      MatCreateAIJ(comm, kRowsPerRank, kRowsPerRank, n, n, 3, nullptr, 1, nullptr, H_.receive()));
  PetscInt begin = 0, end = 0;
  BB_PETSC(MatGetOwnershipRange(H_, &begin, &end));
  std::vector<PetscInt> rows;
  double entries = 0;
  for (PetscInt i = begin; i < end; ++i) {
    const PetscInt columns[] = {i - 1, i, i + 1};
    const PetscScalar values[] = {-1.0, 2.1, -1.0};
    const PetscInt first = i == 0 ? 1 : 0, last = i + 1 == n ? 2 : 3;
    BB_PETSC(MatSetValues(H_, 1, &i, last - first, columns + first, values + first, INSERT_VALUES));
    if (free_row(i)) {
      rows.push_back(i);
      for (PetscInt c = first; c < last; ++c)
        entries += free_row(columns[c]) ? 1 : 0;
    }
  }
  BB_PETSC(MatAssemblyBegin(H_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(MatAssemblyEnd(H_, MAT_FINAL_ASSEMBLY));
  BB_PETSC(ISCreateGeneral(comm, static_cast<PetscInt>(rows.size()), rows.data(), PETSC_COPY_VALUES,
                           free_.receive()));
  double counts[] = {static_cast<double>(end - begin), static_cast<double>(rows.size()), entries};
  MPI_Allreduce(MPI_IN_PLACE, counts, 3, MPI_DOUBLE, MPI_SUM, comm);
  rows_ = counts[0];
  free_rows_ = counts[1];
  free_entries_ = counts[2];
}

Cost FreeSetExtraction::cost() const {
  // H's row pointers, the free rows' three entries each, the submatrix's rows and entries.
  return {8 * rows_ + 12 * 3 * free_rows_ + 8 * free_rows_ + 12 * free_entries_, 0.0};
}

void FreeSetExtraction::register_benchmarks(MPI_Comm comm, const Limits& limits) {
  const auto add = [&](const char* name, auto kernel) {
    benchmark::RegisterBenchmark(
        name,
        [=, this](benchmark::State& state) { run_collective(state, comm, cost(), limits, kernel); })
        ->Iterations(30)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("free_set/principal_submatrix",
      [this] { const bilevel::OwnedMat sub = bilevel::principal_submatrix(H_, free_); });
  add("free_set/petsc_extraction", [this] {
    bilevel::OwnedMat sub;
    BB_PETSC(MatCreateSubMatrix(H_, free_, free_, MAT_INITIAL_MATRIX, sub.receive()));
  });
}

} // namespace bench
