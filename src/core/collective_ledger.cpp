#include "bilevel/core/collective_ledger.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/log_events.hpp"

#include <petsclog.h>

namespace bilevel {

namespace {

std::vector<std::array<CollectiveTally, kCollectives.size()>>& ledger() {
  static std::vector<std::array<CollectiveTally, kCollectives.size()>> tallies;
  return tallies;
}

int current_stage() {
  PetscStageLog stage_log = nullptr;
  BB_PETSC(PetscLogGetStageLog(&stage_log));
  int stage = 0;
  BB_PETSC(PetscStageLogGetCurrent(stage_log, &stage));
  return stage < 0 ? 0 : stage; // no stage pushed: PETSc's Main Stage
}

} // namespace

const char* collective_name(Collective kind) {
  return kind == Collective::allreduce ? "allreduce" : "gather";
}

void record_collective(Collective kind, double bytes) {
  auto& tallies = ledger();
  const auto stage = static_cast<std::size_t>(current_stage());
  if (tallies.size() <= stage)
    tallies.resize(stage + 1);
  CollectiveTally& t = tallies[stage][static_cast<std::size_t>(kind)];
  t.calls += 1;
  t.bytes += bytes;
}

const std::vector<std::array<CollectiveTally, kCollectives.size()>>& collective_tallies() {
  return ledger();
}

void logged_allreduce(MPI_Comm comm, double* data, int count, MPI_Op op) {
  LogScope scope(log_events().allreduce);
  MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, op, comm);
  record_collective(Collective::allreduce, 8.0 * count);
}

} // namespace bilevel
