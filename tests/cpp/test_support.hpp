#pragma once
// Shared helpers of the C++ tests: building a registered problem from an options string, starting
// an algorithm on a problem, filling
// Vecs with rank-layout-independent random values, and relative errors.
#include "bilevel/catalog.hpp"
#include "bilevel/core/counter_rng.hpp"
#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/petsc_handle.hpp"
#include "bilevel/core/record.hpp"

#include <memory>
#include <string>
#include <vector>

namespace bilevel::test {

/// The run specification of the options in force (-seed, -outer_iters) on PETSC_COMM_WORLD.
inline RunSpec current_run() {
  return RunSpec::from_options(PETSC_COMM_WORLD);
}

/// Creates problem `name` with `options` (e.g. "-problem_ny 50").
inline std::unique_ptr<Problem> make_problem(const std::string& name, const std::string& options) {
  ScopedOptions scoped(options);
  return problem_registry().at(name).create(current_run());
}

/// A registered problem and algorithm built under the options in force, set up at the problem's
/// x0. Keep the options in scope while stepping: IGFM reads them again to build its rank groups.
struct AlgorithmRun {
  std::unique_ptr<Problem> problem; // declared first: the algorithm holds a pointer to it
  std::unique_ptr<Algorithm> algorithm;
  OwnedVec x;

  /// `steps` more steps; `record` is left with the last one's row.
  void advance(int steps, Record& record) {
    for (int t = 0; t < steps; ++t) {
      record.clear();
      algorithm->step(x, record);
    }
  }
};

inline AlgorithmRun start_run(const std::string& problem, const std::string& algorithm) {
  const RunSpec spec = with_problem_factory(current_run(), problem);
  AlgorithmRun run{problem_registry().at(problem).create(spec),
                   algorithm_registry().at(algorithm).create(spec),
                   {}};
  run.x = run.problem->create_x();
  run.problem->initial_x(run.x);
  run.algorithm->setup(*run.problem, run.x);
  return run;
}

/// v_i = offset + scale * N(0,1) from a counter generator indexed by the global i.
inline void fill_random(Vec v, std::uint64_t stream, double scale = 1.0, double offset = 0.0) {
  const CounterRng rng(12345, stream);
  PetscInt begin = 0, end = 0;
  BB_PETSC(VecGetOwnershipRange(v, &begin, &end));
  PetscScalar* a = nullptr;
  BB_PETSC(VecGetArray(v, &a));
  for (PetscInt i = begin; i < end; ++i)
    a[i - begin] = offset + scale * rng.normal(static_cast<std::uint64_t>(i));
  BB_PETSC(VecRestoreArray(v, &a));
}

/// ||a - b|| / max(||b||, tiny).
inline double relative_error(Vec a, Vec b) {
  OwnedVec d = copy_of(a);
  BB_PETSC(VecAXPY(d, -1.0, b));
  PetscReal nd = 0, nb = 0;
  BB_PETSC(VecNorm(d, NORM_2, &nd));
  BB_PETSC(VecNorm(b, NORM_2, &nb));
  return nd / std::max(nb, 1e-300);
}

/// The points (x +- h dx, y +- h dy) of a central difference; a null direction leaves its
/// variable unperturbed.
struct CentralPoints {
  OwnedVec x_plus, x_minus, y_plus, y_minus;
};
inline CentralPoints central_points(Vec x, Vec y, Vec dx, Vec dy, double h) {
  CentralPoints p{copy_of(x), copy_of(x), copy_of(y), copy_of(y)};
  if (dx) {
    BB_PETSC(VecAXPY(p.x_plus, h, dx));
    BB_PETSC(VecAXPY(p.x_minus, -h, dx));
  }
  if (dy) {
    BB_PETSC(VecAXPY(p.y_plus, h, dy));
    BB_PETSC(VecAXPY(p.y_minus, -h, dy));
  }
  return p;
}

/// Least-squares slope of ys against xs.
inline double least_squares_slope(const std::vector<double>& xs, const std::vector<double>& ys) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    mx += xs[i] / static_cast<double>(xs.size());
    my += ys[i] / static_cast<double>(xs.size());
  }
  double num = 0, den = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) * (xs[i] - mx);
  }
  return num / den;
}

inline double dot(Vec a, Vec b) {
  PetscScalar value = 0;
  BB_PETSC(VecDot(a, b, &value));
  return value;
}

/// The relative error of the hypergradient of `algorithm` (built under `options`) at the
/// problem's initial x against the problem's closed form; `out`, if given, receives the row the
/// estimate recorded.
inline double hypergradient_error(Problem& problem, const std::string& algorithm,
                                  const std::string& options, Record* out = nullptr) {
  ScopedOptions scoped(options);
  auto alg = algorithm_registry().at(algorithm).create(current_run());
  OwnedVec x = problem.create_x(), grad = problem.create_x(), exact = problem.create_x();
  problem.initial_x(x);
  alg->setup(problem, x);
  Record record;
  alg->hypergradient(x, grad, record);
  if (out)
    *out = record;
  problem.exact_hypergradient(x, exact, nullptr);
  return relative_error(grad, exact);
}

} // namespace bilevel::test
