#include "bilevel/core/log_events.hpp"

#include "bilevel/core/error.hpp"

namespace bilevel {

const LogEvents& log_events() {
  static const LogEvents events = [] {
    PetscClassId id;
    BB_PETSC(PetscClassIdRegister("bilevelbench", &id));
    LogEvents e{};
    BB_PETSC(PetscLogEventRegister("BBInnerSolve", id, &e.inner_solve));
    BB_PETSC(PetscLogEventRegister("BBHypergrad", id, &e.hypergradient));
    BB_PETSC(PetscLogEventRegister("BBLinearSolve", id, &e.linear_solve));
    BB_PETSC(PetscLogEventRegister("BBOuterStep", id, &e.outer_step));
    BB_PETSC(PetscLogEventRegister("BBReport", id, &e.report));
    BB_PETSC(PetscLogEventRegister("BBOutput", id, &e.output));
    BB_PETSC(PetscLogEventRegister("BBAllreduce", id, &e.allreduce));
    BB_PETSC(PetscLogStageRegister("BBIterations", &e.iterations));
    BB_PETSC(PetscLogStageRegister("BBReporting", &e.reporting));
    return e;
  }();
  return events;
}

LogScope::LogScope(PetscLogEvent event) : event_(event) {
  BB_PETSC(PetscLogEventBegin(event_, 0, 0, 0, 0));
}

LogScope::~LogScope() {
  (void)PetscLogEventEnd(event_, 0, 0, 0, 0);
}

StageScope::StageScope(PetscLogStage stage) {
  BB_PETSC(PetscLogStagePush(stage));
}

StageScope::~StageScope() {
  (void)PetscLogStagePop();
}

} // namespace bilevel
