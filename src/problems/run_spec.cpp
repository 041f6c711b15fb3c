#include "bilevel/problems/run_spec.hpp"

#include "bilevel/core/options.hpp"

namespace bilevel {

RunSpec RunSpec::from_options(MPI_Comm comm) {
  OptionSection section("run control");
  RunSpec spec;
  spec.comm = comm;
  spec.seed = options::get_int("-seed", 0, 0, PETSC_MAX_INT,
                               "seed of the instance's data and of a method's random draws");
  spec.outer_iters =
      static_cast<int>(options::get_int("-outer_iters", 100, 0, 1000000000, "outer iterations K"));
  return spec;
}

} // namespace bilevel
