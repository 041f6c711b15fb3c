"""The FFO-layer paper's -export_problem files (qp_bilevel, dfl_qp, sudoku_lp) against numpy: the exported
data alone must rebuild what the suite reports."""
import h5py
import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import trace


def _qp_kkt(Q, q, G, h, A, b):
    """min 1/2 y'Qy + q'y s.t. Gy <= h, Ay = b: the active set from SLSQP, then y and the
    multipliers exactly from the KKT system on that set, certified (multipliers >= 0, inactive
    rows feasible). Returns y, the KKT matrix and the active rows."""
    n = len(q)
    constraints = [{"type": "ineq", "fun": lambda y: h - G @ y, "jac": lambda y: -G}]
    if len(b):
        constraints.append({"type": "eq", "fun": lambda y: A @ y - b, "jac": lambda y: A})
    rough = minimize(lambda y: 0.5 * y @ Q @ y + q @ y, np.zeros(n), jac=lambda y: Q @ y + q,
                     constraints=constraints, method="SLSQP",
                     options={"ftol": 1e-14, "maxiter": 2000}).x
    active = h - G @ rough < 1e-6
    C = np.vstack([G[active], A])
    K = np.block([[Q, C.T], [C, np.zeros((len(C), len(C)))]])
    solution = np.linalg.solve(K, np.concatenate([-q, h[active], b]))
    y, multipliers = solution[:n], solution[n:n + active.sum()]
    assert multipliers.min(initial=0.0) >= -1e-9, "not a KKT point: negative multiplier"
    assert np.all(G[~active] @ y <= h[~active] + 1e-9), "not a KKT point: infeasible row"
    return y, K, active


@pytest.mark.parametrize("ranks", [1, 2])
def test_qp_bilevel_export_rebuilds_the_hypergradient(run, tmp_path, ranks):
    """grad Phi = r x + (dy/dx)'(y* - d), dy/dx from the KKT system on the active set with
    dq/dx = -B, against the kkt oracle's -hypergrad and the suite's closed form."""
    opts = ["-problem", "qp_bilevel", "-problem_nx", "6", "-problem_ny", "30", "-problem_ineq",
            "40", "-problem_eq", "3"]
    exported = tmp_path / "data.h5"
    result = run("-export_problem", exported, *opts, ranks=ranks)
    assert result.returncode == 0, result.stderr
    with h5py.File(exported, "r") as f:
        p = f["problem"]
        Q, c, B, G, h, A, b, d, x0 = (p[k][()] for k in ("Q", "c", "B", "G", "h", "A", "b", "d",
                                                         "x0"))
        r = p.attrs["r"]
    assert Q.shape == (30, 30) and B.shape == (30, 6) and G.shape == (40, 30) and A.shape == (3, 30)
    y, K, active = _qp_kkt(Q, c - B @ x0, G, h, A, b)
    assert active.sum() >= 3  # inequalities bind: the projection's Jacobian matters
    dy = np.linalg.solve(K, np.vstack([B, np.zeros((len(K) - len(y), B.shape[1]))]))[:len(y)]
    expected = r * x0 + dy.T @ (y - d)
    out = tmp_path / "g.h5"
    result = run("-hypergrad", *opts, "-algorithm", "qp_hypergrad", "-alg_oracle", "kkt",
                 "-output", out, ranks=ranks)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        np.testing.assert_allclose(f["x"][()], x0, rtol=0, atol=0)
        for name in ("hypergrad", "hypergrad_exact"):
            err = np.linalg.norm(f[name][()] - expected) / np.linalg.norm(expected)
            assert err <= 1e-8, f"{name}: relative error {err:.2e}"


def _mlp(x, phi, widths):
    """The flat layout of Mlp: per layer W (out x in, row-major) then b; tanh between layers."""
    a, at = phi, 0
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        W = x[at:at + fan_out * fan_in].reshape(fan_out, fan_in)
        bias = x[at + fan_out * fan_in:at + fan_out * (fan_in + 1)]
        at += fan_out * (fan_in + 1)
        a = W @ a + bias
        if layer + 2 < len(widths):
            a = np.tanh(a)
    assert at == len(x)
    return a


def test_dfl_qp_export_reproduces_the_test_loss(run, tmp_path):
    """The layer's QP (Q = I, y in [-1, 0]^n, sum y <= 3 never binding) is solved by
    y = clip(-q_hat, -1, 0): the exported costs and features with the run's final model must give
    its last test_loss (the run on 2 ranks, the export on 1)."""
    opts = ["-problem", "dfl_qp", "-problem_model", "mlp", "-problem_hidden", "6", "-problem_n",
            "10", "-problem_features", "4", "-problem_train", "16", "-problem_test", "12",
            "-problem_batch", "4"]
    exported = tmp_path / "data.h5"
    assert run("-export_problem", exported, *opts).returncode == 0
    with h5py.File(exported, "r") as f:
        p = f["problem"]
        costs, features, G, h, x0 = (p[k][()] for k in ("costs", "features", "G", "h", "x0"))
        assert p.attrs["model"] == b"mlp" and p.attrs["hidden"] == 6
        clamp, train = p.attrs["clamp"], p.attrs["train"]
    assert costs.shape == (28, 10) and features.shape == (28, 4)
    assert G.shape == (21, 10) and h.shape == (21,) and x0.shape == (6 * 5 + 10 * 7,)
    out = tmp_path / "run.h5"
    result = run(*opts, "-algorithm", "qp_layer", "-outer_iters", "3", "-alg_lr", "0.05",
                 "-output", out, ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        x = f["x"][()]
    assert np.linalg.norm(x - x0) > 1e-3  # the model moved
    losses = []
    for s in range(train, len(costs)):
        q = np.clip(_mlp(x, features[s], [4, 6, 10]), -clamp, clamp)
        y = np.clip(-q, -1.0, 0.0)
        assert np.all(G @ y <= h + 1e-12)
        losses.append(costs[s] @ y / 10)
    reported = trace(out)["test_loss"][-1]
    assert abs(np.mean(losses) - reported) <= 1e-7 * abs(reported), (np.mean(losses), reported)


def _valid_board(digits, box=2):
    n = box * box
    board = digits.reshape(n, n)
    boxes = board.reshape(box, box, box, box).transpose(0, 2, 1, 3).reshape(n, n)
    return all(len(set(group)) == n for group in (*board, *board.T, *boxes))


def test_sudoku_lp_export_puzzles_and_test_loss(run, tmp_path):
    """Exported solutions are valid boards, clues a subset of them; the loss of the layer's
    QP (0.05||y||^2 - p'y, A y = b, y >= 0, solved here independently) with the run's final
    x = (A, z0), b = A exp(z0), reproduces the run's last test_loss, test_error and
    test_cell_error."""
    opts = ["-problem", "sudoku_lp", "-problem_train", "8", "-problem_test", "3",
            "-problem_batch", "4"]
    exported = tmp_path / "data.h5"
    assert run("-export_problem", exported, *opts, ranks=2).returncode == 0
    with h5py.File(exported, "r") as f:
        p = f["problem"]
        clues, solutions, x0 = p["clues"][()], p["solutions"][()], p["x0"][()]
        m, train, a = p.attrs["equalities"], p.attrs["train"], p.attrs["quadratic"]
    assert clues.shape == solutions.shape == (11, 64) and x0.shape == (m * 64 + 64,)
    cells = solutions.reshape(11, 16, 4)
    assert np.all(cells.sum(axis=2) == 1)
    assert all(_valid_board(board.argmax(axis=1)) for board in cells)
    assert np.all(clues <= solutions) and np.all(clues.sum(axis=1) == 8)
    out = tmp_path / "run.h5"
    result = run(*opts, "-algorithm", "qp_layer", "-alg_lr", "0.1", "-outer_iters", "2",
                 "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        x = f["x"][()]
    assert 0 < np.abs(x - x0).max() < 1  # two Adam steps of 0.1 from the exported x0
    A = x[:m * 64].reshape(m, 64)
    b = A @ np.exp(x[m * 64:])
    losses, wrong_boards, wrong_cells, open_cells = [], 0, 0, 0
    for s in range(train, 11):
        y, _, _ = _qp_kkt(a * np.eye(64), -clues[s], -np.eye(64), np.zeros(64), A, b)
        losses.append(np.mean((y - solutions[s]) ** 2))
        digits = y.reshape(16, 4).argmax(axis=1)
        wrong_boards += not _valid_board(digits)
        open_ = clues[s].reshape(16, 4).sum(axis=1) == 0
        wrong_cells += np.sum(digits[open_] != solutions[s].reshape(16, 4).argmax(axis=1)[open_])
        open_cells += np.sum(open_)
    t = trace(out)
    assert t["test_error"][-1] == wrong_boards / 3
    assert t["test_cell_error"][-1] == wrong_cells / open_cells
    reported = t["test_loss"][-1]
    assert abs(np.mean(losses) - reported) <= 1e-7 * abs(reported), (np.mean(losses), reported)


def test_sudoku_lp_9x9_export_puzzles(run, tmp_path):
    """-problem_size 9: 729 indicators per puzzle, 249 learned rows, 30 clues; the exported
    solutions are valid 9x9 boards and the clues a subset of them."""
    exported = tmp_path / "data.h5"
    result = run("-export_problem", exported, "-problem", "sudoku_lp", "-problem_size", "9",
                 "-problem_train", "6", "-problem_test", "2", "-problem_batch", "2", ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(exported, "r") as f:
        p = f["problem"]
        clues, solutions, x0 = p["clues"][()], p["solutions"][()], p["x0"][()]
        m, size = p.attrs["equalities"], p.attrs["size"]
    assert (m, size) == (249, 9)
    assert clues.shape == solutions.shape == (8, 729) and x0.shape == (249 * 729 + 729,)
    cells = solutions.reshape(8, 81, 9)
    assert np.all(cells.sum(axis=2) == 1)
    assert all(_valid_board(board.argmax(axis=1), box=3) for board in cells)
    assert np.all(clues <= solutions) and np.all(clues.sum(axis=1) == 30)
