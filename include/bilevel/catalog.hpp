#pragma once
// The registries of every problem and algorithm the suite ships (-problem, -algorithm, -list).
// Adding one is one line in src/catalog.cpp.
#include "bilevel/capabilities.hpp"
#include "bilevel/core/registry.hpp"
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/problems/problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

using ProblemRegistry = Registry<Problem, ProblemStructure, const RunSpec&>;
using AlgorithmRegistry = Registry<Algorithm, Requirements, const RunSpec&>;

const ProblemRegistry& problem_registry();
const AlgorithmRegistry& algorithm_registry();

/// `run` with the factory of the registered problem `problem` (InputError naming the accepted
/// ones if it is unknown).
RunSpec with_problem_factory(RunSpec run, const std::string& problem);

} // namespace bilevel
