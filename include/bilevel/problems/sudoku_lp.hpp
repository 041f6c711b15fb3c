#pragma once
// OptNet's Sudoku task at 4x4 (docs/algorithms.md §7.18): each puzzle's one-hot clues p in
// R^64 (cell (r, c), digit d at 16 r + 4 c + d) enter the layer
//   y* = argmin 0.05 ||y||^2 - p'y  s.t.  A y = b,  y >= 0,
// whose constraints are learned: x = (A, z0) with A (num_eq x 64, initialised U[0, 1],
// num_eq = 40, the rank of the true 4x4 constraint matrix) and b = A exp(z0), so that
// exp(z0) > 0 is always a strictly feasible point. Loss: the mean squared error of y* against
// the solution's one-hot encoding. The gradients reach x through dl/dA and dl/db of the
// layer: dA + db exp(z0)', and (A'db) .* exp(z0). Puzzles are generated here: a valid base
// board under random digit, row-within-band, band, column-within-stack and stack permutations,
// then all but -problem_clues cells removed (uniqueness of the solution is not enforced).
// Test metric test_error: the fraction of test boards whose cell-wise argmax breaks a rule.
#include "bilevel/problems/qp_layer_problem.hpp"
#include "bilevel/problems/run_spec.hpp"

namespace bilevel {

class SudokuLp final : public QpLayerProblem {
public:
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::layers};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config {
    SampleSplit split;
    PetscInt clues, equalities;
    long long seed;
    static Config from_options(const RunSpec& run);
  };
  SudokuLp(MPI_Comm comm, Config config);

  static constexpr Eigen::Index kCells = 64;

  std::string name() const override { return "sudoku_lp"; }
  PetscInt nx() const override { return config_.equalities * kCells + kCells; }
  PetscInt layer_size() const override { return kCells; }
  bool needs_matrix_gradients() const override { return true; }
  void initial_x(Vec x) const override;

  DenseQp sample_qp(const Vector& x, int sample) const override;
  double sample_loss(int sample, const Vector& y) const override;
  Vector sample_loss_gradient(int sample, const Vector& y) const override;
  void add_model_gradient(const Vector& x, int sample, const QpLayerGradient& layer,
                          Vector& grad) const override;

  /// Feasibility of the minibatch's y for the constraints at x: ||A y - b|| + ||min(y, 0)||.
  double lower_residual(Vec x, Vec y) override;
  /// test_error (rule-breaking argmax boards) and test_loss on the test split.
  void report_metrics(Vec x, Vec y, Record& record) override;
  /// clues, solutions (sample-major one-hot), x0 and the split (docs/result-format.md).
  void export_data(hid_t group) const override;

  /// Whether the board (16 digits, row-major) keeps every row, column and 2x2 box distinct.
  static bool valid_board(const std::vector<int>& board);

protected:
  long long permutation_seed() const override { return config_.seed; }

private:
  Vector initial_model() const;

  Config config_;
  Eigen::MatrixXd clues_;     ///< 64 x (train + test), one-hot clues
  Eigen::MatrixXd solutions_; ///< 64 x (train + test), one-hot solutions
};

} // namespace bilevel
