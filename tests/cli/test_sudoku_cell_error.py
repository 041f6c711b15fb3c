"""sudoku_lp's per-cell test metric: test_cell_error, the fraction of the test boards' non-clue
cells whose argmax digit is not the solution's, next to test_error (a board is wrong when its
argmax breaks a rule). At 9x9 the board error is 1 in every training run, so the cells are what
shows whether training moves the layer at all (docs/ffo-qp-layers.md, "9x9 Sudoku")."""
import pytest

from conftest import trace

# One update of 1e-12 (the test split is evaluated after it): the metrics of x0 itself.
NINE = ["-problem", "sudoku_lp", "-problem_size", "9", "-problem_train", "8", "-problem_test",
        "4", "-problem_batch", "4", "-algorithm", "qp_layer", "-alg_optimizer", "sgd",
        "-alg_lr", "1e-12", "-outer_iters", "1"]


def _metrics(run, tmp_path, *opts, ranks=1):
    out = tmp_path / "run.h5"
    result = run(*NINE, *opts, "-output", out, ranks=ranks)
    assert result.returncode == 0, result.stderr
    t = trace(out)
    return t["test_error"][-1], t["test_cell_error"][-1]


@pytest.mark.parametrize("ranks", [1, 2])
def test_true_rules_at_70_clues_get_every_cell_right(run, tmp_path, ranks):
    board, cell = _metrics(run, tmp_path, "-problem_init", "rules", "-problem_clues", "70",
                           ranks=ranks)
    assert board == 0.0 and cell == 0.0


def test_true_rules_at_30_clues_get_most_cells_right_and_no_board(run, tmp_path):
    """The default 30 clues leave a face of the rule polytope whose centre breaks a rule on every
    board; the cells show the rules still place most digits (measured: 0.25 of 204 cells)."""
    board, cell = _metrics(run, tmp_path, "-problem_init", "rules", "-problem_clues", "30")
    assert board == 1.0 and 0.1 < cell < 0.4


def test_random_init_is_near_chance(run, tmp_path):
    """Random A: the non-clue cells' argmax is about as often wrong as a random digit's, 8/9
    (measured: 0.902 of 204 cells)."""
    board, cell = _metrics(run, tmp_path, "-problem_clues", "30")
    assert board == 1.0 and 0.8 < cell < 0.97
