#pragma once
// The exact implicit gradient of a VI's solution (docs/algorithms.md §3.7, the KKT baseline
// specialised to VIs): solve the VI tightly by natural-map steps (warm-started), then, with
// P_F = DP_Y(u*) the projection Jacobian at u* = y* - F(y*, x)/b (for a box: the 0/1 mask of the
// free coordinates), differentiate the fixed point y* = P_Y(u*) (paper Theorem 5):
//   dy*/dx = -(P_F grad_y F P_F)^+ P_F grad_x F,
// so  grad Phi = grad_x f - grad_x F' lambda  with  (P_F grad_y F' P_F + I - P_F) lambda = P_F
// grad_y f. The operator is the transposed Jacobian restricted to the free coordinates (identity on
// the active ones). When Y is given by bounds and the problem assembles grad_y F, the system is
// solved on the free block alone with a multigrid preconditioner (FreeSetSolver); otherwise it is
// applied matrix-free in a MatShell and solved with GMRES (it need not be symmetric).
// Exact when DP_Y(u) is an orthogonal projector (box, bounds, polyhedra), not for the ball.
// The lower solve is the natural-map loop or, with -alg_inner_solver snesvi, PETSc's
// semismooth Newton (SnesViSolver, for bound-constrained Y) run to a D-gap tolerance.
#include "bilevel/core/operator_solver.hpp"
#include "bilevel/methods/hypergradient_method.hpp"
#include "bilevel/solvers/free_set_solver.hpp"
#include "bilevel/solvers/grid_sequenced_start.hpp"
#include "bilevel/solvers/natural_map_iteration.hpp"
#include "bilevel/solvers/snes_vi_solver.hpp"

#include <memory>
#include <optional>

namespace bilevel {

class KktVi final : public HypergradientMethod {
public:
  struct Config {
    OuterStepConfig outer;
    double inner_rtol; ///< stop when ||y_{t+1} - y_t|| <= rtol (1 + ||y||)
    int inner_max_steps;
    bool snesvi;          ///< lower solve by SnesViSolver instead of natural-map steps
    double inner_gap_tol; ///< SnesViSolver: stop when the lower residual (D-gap) is at most this
    bool grid_sequence;   ///< SnesViSolver from the problem's initial y: start on coarser grids
    double b;             ///< <= 0: L (objective) or L^2/mu (VI)
    bool check_exact;
    bool matrix_free_adjoint; ///< GMRES on the full-size MatShell even when J is assembled
    bool check_adjoint;       ///< report the adjoint's residual and the free block's asymmetry
    static Config from_options();
  };
  explicit KktVi(Config config);

  std::string name() const override { return "kkt_vi"; }
  void setup(Problem& problem, Vec x0) override;
  void hypergradient(Vec x, Vec grad, Record& record) override;
  void report(Vec x, Record& record) override;
  /// The GMRES warm start lambda is state too: a restart without it would differ.
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;
  std::vector<Vec> step_state() const override { return {y_, lambda_}; }

protected:
  void trial_lower_solution(Vec x, Vec y_trial) override;

private:
  /// The tight lower solve at x, in place from y; records its counters when `record` is given.
  void solve_lower(Vec x, Vec y, Record* record);
  /// Whether y is the problem's initial y at x, where grid sequencing pays.
  bool is_cold_start(Vec x, Vec y);
  /// out = DP_Y(u*) v.
  void free_part(Vec v, Vec out) const;
  /// out = (P_F grad_y F' P_F + I - P_F) v at (x, y_), the adjoint system's operator.
  void apply_adjoint(Vec x, Vec v, Vec out);
  /// The -alg_check_adjoint metrics of the last adjoint solve (outside the timed step).
  void report_adjoint(Record& record);

  Config config_;
  std::unique_ptr<NaturalMap> map_;
  std::unique_ptr<NaturalMapIteration> inner_;
  std::unique_ptr<OperatorSolver> solver_;
  std::unique_ptr<FreeSetSolver> free_set_solver_; ///< when Y is bounds and J is assembled
  std::unique_ptr<SnesViSolver> snesvi_;
  std::optional<GridSequencedStart> sequencing_;
  OwnedVec u_, y_next_, lambda_, rhs_, gx_, work_, work2_, mask_;
  OwnedVec x_adjoint_; ///< -alg_check_adjoint: the x of the last adjoint solve
};

} // namespace bilevel
