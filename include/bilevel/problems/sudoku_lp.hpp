#pragma once
// OptNet's Sudoku task at 4x4 or (-problem_size 9) 9x9 (docs/algorithms.md §7.18): on an N x N
// board each puzzle's one-hot clues p in R^(N^3) (cell (r, c), digit d at N^2 r + N c + d) enter
// the layer
//   y* = argmin 0.05 ||y||^2 - p'y  s.t.  A y = b,  y >= 0,
// whose constraints are learned: x = (A, z0) with A (num_eq x N^3, initialised U[0, 1],
// num_eq = 40 at 4x4 and 249 at 9x9, the rank of the true constraint matrix) and b = A exp(z0),
// so that
// exp(z0) > 0 is always a strictly feasible point. Loss: the mean squared error of y* against
// the solution's one-hot encoding. The gradients reach x through dl/dA and dl/db of the
// layer: dA + db exp(z0)', and (A'db) .* exp(z0). Puzzles are generated here: a valid base
// board under random digit, row-within-band, band, column-within-stack and stack permutations,
// then all but -problem_clues cells removed (uniqueness of the solution is not enforced).
// Test metrics: test_error, the fraction of test boards whose cell-wise argmax breaks a rule, and
// test_cell_error, the fraction of the test boards' non-clue cells whose argmax is not the
// solution's digit.
// -problem_init rules starts instead from the rules themselves (OptNet's trueInit): A = the first
// num_eq linearly independent of the N^2 (cell) + 3 N^2 (row, column, box per digit) sum-to-one
// rows, exp(z0) = 1/N so that b = 1; what the layer does with the true rules bounds what training
// can reach.
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class SudokuLp final : public QpLayerProblem {
public:
  struct Config {
    SampleSplit split;
    PetscInt size; ///< N, the board's side: 4 or 9
    PetscInt clues, equalities;
    bool rules_init; ///< -problem_init rules: x0 holds the true rules, not U[0, 1] entries
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  SudokuLp(MPI_Comm comm, Config config);

  std::string name() const override { return "sudoku_lp"; }
  PetscInt nx() const override { return config_.equalities * cells() + cells(); }
  PetscInt layer_size() const override { return cells(); }
  bool needs_matrix_gradients() const override { return true; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;

  /// test_error (rule-breaking argmax boards), test_cell_error (wrong non-clue cells) and
  /// test_loss on the test split.
  void report_metrics(Vec x, Vec y, Record& record) override;
  /// clues, solutions (sample-major one-hot), x0 and the split (docs/result-format.md).
  void export_data(hid_t group) const override;

  /// Whether the board (N^2 digits 0..N-1, row-major, N = 4 or 9) keeps every row, column and
  /// box distinct.
  static bool valid_board(const std::vector<int>& board);

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  Vector initial_model() const;
  /// N^3: one indicator per (cell, digit).
  Eigen::Index cells() const { return config_.size * config_.size * config_.size; }

  Config config_;
  Eigen::MatrixXd clues_;     ///< N^3 x (train + test), one-hot clues
  Eigen::MatrixXd solutions_; ///< N^3 x (train + test), one-hot solutions
  Eigen::MatrixXd rules_;     ///< num_eq x N^3 independent rule rows (-problem_init rules only)
};

} // namespace bilevel
