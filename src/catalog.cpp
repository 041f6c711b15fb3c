#include "bilevel/catalog.hpp"

#include "bilevel/methods/aid.hpp"
#include "bilevel/methods/aid_neumann.hpp"
#include "bilevel/methods/amigo.hpp"
#include "bilevel/methods/bda.hpp"
#include "bilevel/methods/bome.hpp"
#include "bilevel/methods/box_qp_hypergrad.hpp"
#include "bilevel/methods/bsa.hpp"
#include "bilevel/methods/exact.hpp"
#include "bilevel/methods/f2sa.hpp"
#include "bilevel/methods/fsla.hpp"
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/methods/igfm.hpp"
#include "bilevel/methods/itd.hpp"
#include "bilevel/methods/itd_vi.hpp"
#include "bilevel/methods/kkt_vi.hpp"
#include "bilevel/methods/mrbo.hpp"
#include "bilevel/methods/pgd_qp.hpp"
#include "bilevel/methods/qp_hypergrad.hpp"
#include "bilevel/methods/qp_layer_training.hpp"
#include "bilevel/methods/saba.hpp"
#include "bilevel/methods/soba.hpp"
#include "bilevel/methods/stocbio.hpp"
#include "bilevel/methods/ttsa.hpp"
#include "bilevel/methods/srba.hpp"
#include "bilevel/methods/sustain.hpp"
#include "bilevel/methods/vrbo.hpp"
#include "bilevel/problems/adversarial_ls.hpp"
#include "bilevel/problems/affine_vi_box.hpp"
#include "bilevel/problems/ball_layer.hpp"
#include "bilevel/problems/box_qp_bilevel.hpp"
#include "bilevel/problems/coreset.hpp"
#include "bilevel/problems/cournot.hpp"
#include "bilevel/problems/dfl_qp.hpp"
#include "bilevel/problems/finite_sum_quadratic.hpp"
#include "bilevel/problems/hard_instances.hpp"
#include "bilevel/problems/hyperclean.hpp"
#include "bilevel/problems/logreg_hyper.hpp"
#include "bilevel/problems/obstacle_control.hpp"
#include "bilevel/problems/portfolio_layer.hpp"
#include "bilevel/problems/qp_bilevel.hpp"
#include "bilevel/problems/quadratic.hpp"
#include "bilevel/problems/sudoku_lp.hpp"
#include "bilevel/problems/toy_nonconvex.hpp"
#include "bilevel/problems/toy_sc.hpp"

#include <concepts>

namespace bilevel {

namespace {

using V = LowerConvexity;

/// A problem built as T(comm, T::Config::from_options(run)): its Config declares and reads all
/// its options (the same call records them for -help) and takes the seed from the run; its
/// structure is the class's own T::kStructure.
template <class T> ProblemRegistry::Entry problem_entry(std::string description) {
  return {std::move(description), [] { (void)T::Config::from_options(RunSpec{}); },
          [](const RunSpec& run) -> std::unique_ptr<Problem> {
            return std::make_unique<T>(run.comm, T::Config::from_options(run));
          },
          T::kStructure};
}

/// A method's Config, read by its from_options(run) if the method depends on the run (its seed,
/// budget or problem factory), else by from_options().
template <class T> typename T::Config method_config(const RunSpec& run) {
  if constexpr (requires { T::Config::from_options(run); })
    return T::Config::from_options(run);
  else
    return T::Config::from_options();
}

/// A method built as T(its Config), which declares and reads all its options; whether it has a
/// hypergradient oracle follows from its class.
template <class T>
AlgorithmRegistry::Entry algorithm_entry(std::string description, Requirements requirements) {
  requirements.hypergradient_oracle = std::derived_from<T, HypergradientMethod>;
  return {std::move(description), [] { (void)method_config<T>(RunSpec{}); },
          [](const RunSpec& run) -> std::unique_ptr<Algorithm> {
            return std::make_unique<T>(method_config<T>(run));
          },
          requirements};
}

// The algorithms' needs, shared by the methods of one kind.
constexpr Requirements kGradientBaseline{}; // unconstrained, strongly convex, objective
constexpr Requirements kJointMethod{.weakest = V::nonconvex, .upper_unconstrained = true};
constexpr Requirements kProjectedConvex{
    .constraints_bounds = true, .constraints_set = true, .weakest = V::convex};
/// The error -validate allows the truncated methods (AID, ITD, ITD-VI) at their defaults: an
/// estimate g with ||g - grad Phi|| <= ||grad Phi|| / 2 has <g, grad Phi> >= ||grad Phi||^2 / 2, a
/// descent direction for Phi with margin, which is what their outer step needs; their error
/// shrinks to zero with the inner budget (tests/cli/test_pair_matrix.py checks 1e-3 at large T).
constexpr double kDescentDirection = 0.5;
/// `requirements` with the hypergradient error -validate expects of the method's defaults.
constexpr Requirements validated_to(Requirements requirements, double tolerance) {
  requirements.validation_tolerance = tolerance;
  return requirements;
}

/// The stochastic solvers: minibatches of a finite sum, steps on x without projection.
constexpr Requirements kStochasticSolver{.upper_unconstrained = true, .finite_sum = true};

constexpr Requirements kViMethod{
    .lower_objective = false, .constraints_bounds = true, .constraints_set = true};

} // namespace

const ProblemRegistry& problem_registry() {
  static const ProblemRegistry registry = [] {
    ProblemRegistry r("problem");
    r.add("quadratic", problem_entry<Quadratic>(
                           "quadratic lower and upper level with a closed-form hypergradient "
                           "(y distributed, Q SPD of chosen condition number)"));
    r.add("toy_sc", problem_entry<ToySc>("strongly convex synthetic instance of the perturbed-"
                                         "gradient-descent paper, n = 20"));
    r.add("logreg_hyper",
          problem_entry<LogregHyper>("L2 hyperparameters of multinomial logistic regression on "
                                     "Fashion-MNIST (samples distributed)"));
    r.add("hyperparam_logreg",
          problem_entry<HyperparamLogreg>("the hyper-objective paper's hyperparameter tuning: "
                                          "logreg_hyper with a scalar x, 40000/20000/10000 "
                                          "split, corruption 0.1"));
    r.add("hyperclean", problem_entry<Hyperclean>(
                            "data hyper-cleaning on Fashion-MNIST: x = sample weights "
                            "(sigmoid), y a multinomial model (-problem_pca k for k principal "
                            "components)"));
    r.add("coreset", problem_entry<Coreset>("coreset selection: x in R^4 softmax weights, "
                                            "y in R^2"));
    r.add("toy_nonconvex",
          problem_entry<ToyNonconvex>("nonconvex lower level g = cos(1/2 ||Hy - x||^2), n = 20"));
    r.add("affine_vi_box",
          problem_entry<AffineViBox>("affine VI test instance: F = My + Nx + q (M strongly "
                                     "monotone, non-symmetric) on a box, closed form"));
    r.add("obstacle_control",
          problem_entry<ObstacleControl>("optimal control of the obstacle problem on a DMDA grid "
                                         "(-problem_grid N: N^2 distributed unknowns)"));
    r.add("cournot",
          problem_entry<Cournot>("Nash-Cournot game of N firms (-problem_firms, distributed) "
                                 "with a regulator's per-firm taxes: a VI on a box"));
    r.add("hard_nonsmooth",
          problem_entry<HardNonsmooth>("the hyper-objective paper's Example 5.1: f = xy, g = 0, "
                                       "Y = [-1, 1], phi = -|x|"));
    r.add("hard_liu",
          problem_entry<HardLiu>("Liu et al. 2020's example (hyper-objective paper, Ex. 5.3): "
                                 "singular lower Hessian, phi = (x - 1)^2"));
    r.add("hard_discontinuous",
          problem_entry<HardDiscontinuous>("the hyper-objective paper's Example 4.1: f = x^2 + y, "
                                           "g = -xy on [-1, 1], phi discontinuous at 0"));
    r.add("qp_bilevel", problem_entry<QpBilevel>("QP lower level with inequalities and equalities, "
                                                 "closed-form hypergradient"));
    r.add("box_qp_bilevel",
          problem_entry<BoxQpBilevel>(
              "bound-constrained QP lower level (1-D Laplacian + shift, y distributed, "
              "-problem_ny up to millions), x = nx hat-function coefficients"));
    r.add("dfl_qp",
          problem_entry<DflQp>("synthetic decision-focused learning: linear or MLP model -> "
                               "per-sample QP layer (y in [-1, 0]^n, sum y <= 3), loss "
                               "mean(c .* y*); samples split across ranks"));
    r.add("sudoku_lp",
          problem_entry<SudokuLp>("OptNet's 4x4 Sudoku through a QP layer with learned A, b; "
                                  "puzzles split across ranks"));
    r.add("portfolio_layer",
          problem_entry<PortfolioLayer>("decision-focused portfolio: linear model -> per-sample "
                                        "convex layer (max return - ridge, y'Sigma y <= sigma^2, "
                                        "y in the simplex), loss -mu'y*; samples split across "
                                        "ranks"));
    r.add("ball_layer",
          problem_entry<BallLayer>("projection onto a learned ball: linear model and centre -> "
                                   "per-sample layer with the constraint ||y - c|| <= rho, "
                                   "squared loss to targets; samples split across ranks"));
    r.add("adversarial_ls",
          problem_entry<AdversarialLs>("the hyper-objective paper's Example 5.4: adversarial "
                                       "least squares, M half zero (diabetes data or "
                                       "-problem_data synthetic, rows distributed)"));
    r.add("finite_sum_quadratic",
          problem_entry<FiniteSumQuadratic>(
              "the stochastic benchmark's simulated quadratic: means of n inner / m outer "
              "rank-one quadratics, samples split across ranks, closed form"));
    return r;
  }();
  return registry;
}

const AlgorithmRegistry& algorithm_registry() {
  static const AlgorithmRegistry registry = [] {
    AlgorithmRegistry r("algorithm");
    r.add("aid", algorithm_entry<Aid>(
                     "approximate implicit differentiation: T inner steps + Krylov Hessian solve",
                     validated_to(kGradientBaseline, kDescentDirection)));
    r.add("aid_neumann",
          algorithm_entry<AidNeumann>("AID with the adjoint by a Q-term Neumann series "
                                      "(Hessian products only, no Krylov solve)",
                                      validated_to(kGradientBaseline, kDescentDirection)));
    r.add("itd", algorithm_entry<Itd>(
                     "iterative differentiation: reverse mode through T unrolled inner steps",
                     validated_to(kGradientBaseline, kDescentDirection)));
    r.add("exact", algorithm_entry<Exact>("closed-form hypergradient (problems that have one): the "
                                          "ground truth",
                                          {.lower_objective = false,
                                           .constraints_bounds = true,
                                           .constraints_set = true,
                                           .weakest = V::nonconvex,
                                           .exact_hypergradient = true,
                                           .validation_tolerance = 1e-10}));
    r.add("pgd_qp", algorithm_entry<PgdQp>("perturbed gradient descent via a convex QP "
                                           "(single loop on (x, y), closed-form QP step)",
                                           kJointMethod));
    r.add("bome", algorithm_entry<Bome>("BOME: first-order value-function method on (x, y), "
                                        "T inner steps",
                                        kJointMethod));
    r.add("itd_vi", algorithm_entry<ItdVi>("Kaushik & Jin's ITD for VI constraints: T natural-"
                                           "map steps, forward or reverse implicit gradient",
                                           validated_to(kViMethod, kDescentDirection)));
    r.add("kkt_vi", algorithm_entry<KktVi>("exact VI implicit gradient at a tight y*: GMRES on "
                                           "the free-set system",
                                           validated_to(kViMethod, 1e-5)));
    r.add("bda", algorithm_entry<Bda>("BDA (Liu et al. 2020): T steps on the aggregate of both "
                                      "levels, reverse sweep through them",
                                      kProjectedConvex));
    r.add("igfm", algorithm_entry<Igfm>("IGFM (hyper-objective paper): zeroth-order "
                                        "hypergradient from SGM estimates of phi, B directions "
                                        "over G rank groups",
                                        kProjectedConvex));
    r.add("qp_hypergrad",
          algorithm_entry<QpHypergrad>(
              "fully first-order layer on a QP lower level: interior "
              "point, hypergradient by -alg_oracle ffo|ffoqp|kkt",
              {.interface = ProblemInterface::qp_lower_level, .validation_tolerance = 1e-3}));
    r.add("box_qp_hypergrad",
          algorithm_entry<BoxQpHypergrad>(
              "fully first-order layer on a distributed bound-"
              "constrained QP: PETSc TAO solve, hypergradient by "
              "-alg_oracle ffoqp|kkt (Krylov on Vecs)",
              {.interface = ProblemInterface::box_qp_lower_level, .validation_tolerance = 1e-4}));
    r.add("qp_layer",
          algorithm_entry<QpLayerTraining>("minibatch training through QP and convex layers "
                                           "(dfl_qp, sudoku_lp, portfolio_layer, ball_layer): "
                                           "interior-point forward, -alg_oracle ffo|ffoqp|kkt "
                                           "backward, Adam or SGD",
                                           {.interface = ProblemInterface::qp_layers}));
    r.add("soba", algorithm_entry<Soba>("SOBA: single-loop stochastic steps on y, the adjoint "
                                        "v and x from minibatches of a finite sum",
                                        kStochasticSolver));
    r.add("saba", algorithm_entry<Saba>("SABA: SOBA with SAGA estimates from per-sample "
                                        "memories distributed like the data",
                                        kStochasticSolver));
    r.add("amigo", algorithm_entry<Amigo>("AmIGO: T warm-started SGD steps on y and on the "
                                          "adjoint's quadratic, then a stochastic outer step",
                                          kStochasticSolver));
    r.add("f2sa", algorithm_entry<F2sa>("F2SA: fully first-order; y on g, z on f/lambda + g, x on "
                                        "the penalty Lagrangian with lambda growing",
                                        kStochasticSolver));
    r.add("fsla", algorithm_entry<Fsla>("FSLA: fully single loop; one step on y and v, x along "
                                        "a recursive momentum of the hypergradient sample",
                                        kStochasticSolver));
    r.add("stocbio", algorithm_entry<Stocbio>("StocBiO: minibatch SGD on y, then a stochastic "
                                              "Neumann-series hypergradient and an SGD step on x",
                                              kStochasticSolver));
    r.add("ttsa", algorithm_entry<Ttsa>("TTSA: two time scales, one SGD step on y and a "
                                        "random-length Neumann-sample hypergradient step on x",
                                        kStochasticSolver));
    r.add("bsa", algorithm_entry<Bsa>("BSA: minibatch SGD on y, then a random-length "
                                      "Neumann-sample hypergradient step on x",
                                      kStochasticSolver));
    r.add("srba", algorithm_entry<Srba>("SRBA: SOBA's directions by SARAH recursions with a "
                                        "full-batch restart every period",
                                        kStochasticSolver));
    r.add("mrbo", algorithm_entry<Mrbo>("MRBO: STORM estimates of the inner gradient and of "
                                        "the Neumann-series hypergradient",
                                        kStochasticSolver));
    r.add("vrbo", algorithm_entry<Vrbo>("VRBO: SPIDER estimates of the inner gradient and of "
                                        "the Neumann-series hypergradient, full sums periodically",
                                        kStochasticSolver));
    r.add("sustain", algorithm_entry<Sustain>("SUSTAIN: STORM momentum at both levels, a "
                                              "random-length Neumann-series hypergradient",
                                              kStochasticSolver));
    return r;
  }();
  return registry;
}

RunSpec with_problem_factory(RunSpec run, const std::string& problem) {
  const ProblemRegistry::Entry& entry = problem_registry().at(problem);
  // The factory carries the run (its seed above all), so a copy on a sub-communicator has the
  // same data.
  run.make_problem = [&entry, run](MPI_Comm other) {
    RunSpec on_other = run;
    on_other.comm = other;
    return entry.create(on_other);
  };
  return run;
}

} // namespace bilevel
