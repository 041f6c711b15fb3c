#pragma once
// The registries of every problem and algorithm the suite ships (-problem, -algorithm, -list).
// Adding one is one line in src/catalog.cpp.
#include "bilevel/algorithms/algorithm.hpp"
#include "bilevel/capabilities.hpp"
#include "bilevel/core/registry.hpp"
#include "bilevel/problems/problem.hpp"

namespace bilevel {

using ProblemRegistry = Registry<Problem, ProblemStructure, MPI_Comm>;
using AlgorithmRegistry = Registry<Algorithm, Requirements>;

const ProblemRegistry& problem_registry();
const AlgorithmRegistry& algorithm_registry();

} // namespace bilevel
