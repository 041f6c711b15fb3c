#include "bilevel/cli/experiment.hpp"

#include "bilevel/catalog.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"

namespace bilevel::cli {

Experiment make_experiment(MPI_Comm comm, bool with_algorithm) {
  Experiment e;
  e.problem_name = options::get_string("-problem", "", "problem instance (see -list)");
  if (e.problem_name.empty())
    throw InputError("no -problem given; accepted: " + problem_registry().names_joined());
  const auto& problem_entry = problem_registry().at(e.problem_name);
  if (with_algorithm) {
    e.algorithm_name = options::get_string("-algorithm", "", "algorithm (see -list)");
    if (e.algorithm_name.empty())
      throw InputError("no -algorithm given; accepted: " + algorithm_registry().names_joined());
  }
  // Build the algorithm first: it only reads options, so a bad value fails before data loads.
  if (with_algorithm)
    e.algorithm = algorithm_registry().at(e.algorithm_name).create();
  e.problem = problem_entry.create(comm);
  e.x = e.problem->create_x();
  e.problem->initial_x(e.x);
  return e;
}

bool load_x_from_option(MPI_Comm comm, Experiment& experiment) {
  const std::string path =
      options::get_string("-x_from", "", "HDF5 file whose dataset /x is the starting x");
  if (path.empty())
    return false;
  h5::File file = h5::open_file(comm, path, "r");
  try {
    h5::read_vec(file, "x", experiment.x);
  } catch (const InputError& e) {
    throw InputError("-x_from " + path + ": " + e.what() + " (problem '" + experiment.problem_name +
                     "' has nx = " + std::to_string(experiment.problem->nx()) + ")");
  }
  return true;
}

std::string options_string() {
  char* all = nullptr;
  BB_PETSC(PetscOptionsGetAll(nullptr, &all));
  std::string out = all ? all : "";
  BB_PETSC(PetscFree(all));
  return out;
}

} // namespace bilevel::cli
