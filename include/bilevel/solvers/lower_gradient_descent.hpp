#pragma once
// The shared inner solver of AID, ITD, BOME and BDA: T gradient steps y <- y - eta grad_y g(x, y)
// (projected onto Y when the problem has a lower set), optionally keeping every iterate for
// reverse-mode differentiation.
#include "bilevel/core/petsc_handle.hpp"

#include <vector>

namespace bilevel {

class Problem;

class LowerGradientDescent {
public:
  /// Work vectors are laid out like `y_model`.
  explicit LowerGradientDescent(Vec y_model);

  /// Runs `steps` steps from y (in place). If `history` is given it receives y_0 ... y_{steps-1}
  /// (the points at which each step's gradient was taken), reusing its Vecs across calls.
  void run(Problem& problem, Vec x, Vec y, int steps, double eta,
           std::vector<OwnedVec>* history = nullptr);

  /// Steps until ||grad_y g(x, y)||^2 <= target (checked on the gradient each step computes
  /// anyway) or `max_steps` were taken; returns the number of steps. For unconstrained lower
  /// levels (the criterion is stationarity without projection): PGD-QP's warm start.
  int run_until(Problem& problem, Vec x, Vec y, int max_steps, double eta, double target);

private:
  /// The shared loop: stops early only when `target` >= 0.
  int descend(Problem& problem, Vec x, Vec y, int steps, double eta, std::vector<OwnedVec>* history,
              double target);

  OwnedVec grad_;
};

} // namespace bilevel
