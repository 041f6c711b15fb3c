#include "bilevel/catalog.hpp"

#include "bilevel/algorithms/aid.hpp"
#include "bilevel/algorithms/bda.hpp"
#include "bilevel/algorithms/bome.hpp"
#include "bilevel/algorithms/box_qp_hypergrad.hpp"
#include "bilevel/algorithms/exact.hpp"
#include "bilevel/algorithms/igfm.hpp"
#include "bilevel/algorithms/itd.hpp"
#include "bilevel/algorithms/itd_vi.hpp"
#include "bilevel/algorithms/kkt_vi.hpp"
#include "bilevel/algorithms/pgd_qp.hpp"
#include "bilevel/algorithms/qp_hypergrad.hpp"
#include "bilevel/algorithms/qp_layer_training.hpp"
#include "bilevel/problems/adversarial_ls.hpp"
#include "bilevel/problems/affine_vi_box.hpp"
#include "bilevel/problems/box_qp_bilevel.hpp"
#include "bilevel/problems/coreset.hpp"
#include "bilevel/problems/cournot.hpp"
#include "bilevel/problems/dfl_qp.hpp"
#include "bilevel/problems/hard_instances.hpp"
#include "bilevel/problems/hyperclean.hpp"
#include "bilevel/problems/logreg_hyper.hpp"
#include "bilevel/problems/obstacle_control.hpp"
#include "bilevel/problems/qp_bilevel.hpp"
#include "bilevel/problems/quadratic.hpp"
#include "bilevel/problems/sudoku_lp.hpp"
#include "bilevel/problems/toy_nonconvex.hpp"
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
    r.add("hyperparam_logreg",
          problem_entry<HyperparamLogreg>("seed 004's hyperparameter tuning: logreg_hyper with a "
                                          "scalar x, 40000/20000/10000 split, corruption 0.1"));
    r.add("hyperclean",
          problem_entry<Hyperclean>("seed 003's data hyper-cleaning on Fashion-MNIST: x = sample "
                                    "weights (sigmoid), y a multinomial model (-problem_pca k "
                                    "for k principal components)"));
    r.add("coreset", problem_entry<Coreset>("seed 003's coreset selection: x in R^4 softmax "
                                            "weights, y in R^2"));
    r.add("toy_nonconvex",
          problem_entry<ToyNonconvex>(
              "seed 003's nonconvex lower level g = cos(1/2 ||Hy - x||^2), n = 20"));
    r.add("affine_vi_box",
          problem_entry<AffineViBox>("seed 000's affine VI test instance: F = My + Nx + q (M "
                                     "strongly monotone, non-symmetric) on a box, closed form"));
    r.add("obstacle_control",
          problem_entry<ObstacleControl>("optimal control of the obstacle problem on a DMDA grid "
                                         "(-problem_grid N: N^2 distributed unknowns)"));
    r.add("cournot",
          problem_entry<Cournot>("Nash-Cournot game of N firms (-problem_firms, distributed) "
                                 "with a regulator's per-firm taxes: a VI on a box"));
    r.add("hard_nonsmooth",
          problem_entry<HardNonsmooth>("seed 004's Example 5.1: f = xy, g = 0, Y = [-1, 1], "
                                       "phi = -|x|"));
    r.add("hard_liu", problem_entry<HardLiu>("seed 004's Example 5.3 (Liu et al. 2020): "
                                             "singular lower Hessian, phi = (x - 1)^2"));
    r.add("hard_discontinuous",
          problem_entry<HardDiscontinuous>("seed 004's Example 4.1: f = x^2 + y, g = -xy on "
                                           "[-1, 1], phi discontinuous at 0"));
    r.add("qp_bilevel",
          problem_entry<QpBilevel>("seed 002's test instance: QP lower level with inequalities "
                                   "and equalities, closed-form hypergradient"));
    r.add("box_qp_bilevel",
          problem_entry<BoxQpBilevel>("seed 002's large instance: bound-constrained QP lower "
                                      "level (1-D Laplacian + shift, y distributed, -problem_ny "
                                      "up to millions), x = nx hat-function coefficients"));
    r.add("dfl_qp",
          problem_entry<DflQp>("seed 002's synthetic decision-focused learning: linear or "
                               "MLP model -> per-sample QP layer (y in [-1, 0]^n, sum y <= 3), "
                               "loss mean(c .* y*); samples split across ranks"));
    r.add("sudoku_lp",
          problem_entry<SudokuLp>("OptNet's 4x4 Sudoku through a QP layer with learned A, b "
                                  "(seed 002); puzzles split across ranks"));
    r.add("adversarial_ls",
          problem_entry<AdversarialLs>("seed 004's Example 5.4: adversarial least squares, "
                                       "M half zero (diabetes data or -problem_data synthetic, "
                                       "rows distributed)"));
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
    r.add("pgd_qp", {"seed 003's single-loop perturbed gradient descent on (x, y) via a "
                     "closed-form QP",
                     [] { PgdQp::declare_options(); },
                     [] { return std::make_unique<PgdQp>(PgdQp::Config::from_options()); }});
    r.add("bome", {"BOME: first-order value-function method on (x, y), T inner steps",
                   [] { Bome::declare_options(); },
                   [] { return std::make_unique<Bome>(Bome::Config::from_options()); }});
    r.add("itd_vi", {"seed 000's ITD for VI constraints: T natural-map steps, forward or "
                     "reverse implicit gradient",
                     [] { ItdVi::declare_options(); },
                     [] { return std::make_unique<ItdVi>(ItdVi::Config::from_options()); }});
    r.add("kkt_vi", {"exact VI implicit gradient at a tight y*: GMRES on the free-set system",
                     [] { KktVi::declare_options(); },
                     [] { return std::make_unique<KktVi>(KktVi::Config::from_options()); }});
    r.add("bda", {"BDA (Liu et al. 2020): T steps on the aggregate of both levels, reverse "
                  "sweep through them",
                  [] { Bda::declare_options(); },
                  [] { return std::make_unique<Bda>(Bda::Config::from_options()); }});
    r.add("igfm", {"seed 004's IGFM: zeroth-order hypergradient from SGM estimates of phi, "
                   "B directions over G rank groups",
                   [] { Igfm::declare_options(); },
                   [] { return std::make_unique<Igfm>(Igfm::Config::from_options()); }});
    r.add("qp_hypergrad",
          {"seed 002: QP lower level by interior point, hypergradient by -alg_oracle "
           "ffo|ffoqp|kkt",
           [] { QpHypergrad::declare_options(); },
           [] { return std::make_unique<QpHypergrad>(QpHypergrad::Config::from_options()); }});
    r.add(
        "box_qp_hypergrad",
        {"seed 002 on a distributed bound-constrained QP lower level: PETSc TAO solve, "
         "hypergradient by -alg_oracle ffoqp|kkt (Krylov on Vecs)",
         [] { BoxQpHypergrad::declare_options(); },
         [] { return std::make_unique<BoxQpHypergrad>(BoxQpHypergrad::Config::from_options()); }});
    r.add("qp_layer",
          {"seed 002: minibatch training through QP layers (dfl_qp), interior-point forward, "
           "-alg_oracle ffo|ffoqp|kkt backward, Adam or SGD",
           [] { QpLayerTraining::declare_options(); },
           [] {
             return std::make_unique<QpLayerTraining>(QpLayerTraining::Config::from_options());
           }});
    return r;
  }();
  return registry;
}

} // namespace bilevel
