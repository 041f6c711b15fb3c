#include "bilevel/catalog.hpp"

#include "bilevel/algorithms/aid.hpp"
#include "bilevel/algorithms/exact.hpp"
#include "bilevel/algorithms/itd.hpp"
#include "bilevel/problems/logreg_hyper.hpp"
#include "bilevel/problems/quadratic.hpp"
#include "bilevel/problems/toy_sc.hpp"

namespace bilevel {

namespace {

/// A problem whose constructor takes (comm, T::Config) and whose options T::Config reads.
template <class T> ProblemRegistry::Entry problem_entry(std::string description) {
  return {std::move(description), [] { T::declare_options(); },
          [](MPI_Comm comm) -> std::unique_ptr<Problem> {
            return std::make_unique<T>(comm, T::Config::from_options());
          }};
}

} // namespace

const ProblemRegistry& problem_registry() {
  static const ProblemRegistry registry = [] {
    ProblemRegistry r("problem");
    r.add("quadratic", problem_entry<Quadratic>(
                           "quadratic lower and upper level with a closed-form hypergradient "
                           "(y distributed, Q SPD of chosen condition number)"));
    r.add("toy_sc", problem_entry<ToySc>("seed 003's strongly convex synthetic instance, n = 20"));
    r.add("logreg_hyper",
          problem_entry<LogregHyper>("L2 hyperparameters of multinomial logistic regression on "
                                     "Fashion-MNIST (samples distributed)"));
    return r;
  }();
  return registry;
}

const AlgorithmRegistry& algorithm_registry() {
  static const AlgorithmRegistry registry = [] {
    AlgorithmRegistry r("algorithm");
    r.add("aid", {"approximate implicit differentiation: T inner steps + Krylov Hessian solve",
                  [] { Aid::declare_options(); },
                  [] { return std::make_unique<Aid>(Aid::Config::from_options()); }});
    r.add("itd", {"iterative differentiation: reverse mode through T unrolled inner steps",
                  [] { Itd::declare_options(); },
                  [] { return std::make_unique<Itd>(Itd::Config::from_options()); }});
    r.add("exact", {"closed-form hypergradient (problems that have one): the ground truth",
                    [] { Exact::declare_options(); }, [] { return std::make_unique<Exact>(); }});
    return r;
  }();
  return registry;
}

} // namespace bilevel
