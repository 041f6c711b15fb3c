"""Distributed datasets are in natural (global index) order at every rank count: /x, /state/y and
/hypergrad written at 1, 2, 3 and 4 ranks agree, and a file written at one rank count starts a
run at another (-x_from, -restart_from) at the same x. obstacle_control's 64 x 64 DMDA is split
1 x 2, 1 x 3 and 2 x 2 at 2, 3 and 4 ranks, so at 4 ranks PETSc's ordering (each rank's block
contiguous) is not the grid's; the other distributed problems own contiguous index ranges."""
import shutil

import h5py
import numpy as np
import pytest

from conftest import trace

RANKS = (1, 2, 3, 4)
# Reverse-mode ITD on the obstacle problem with b = 4e4 > L/2, as in test_runs.py's rank case.
OBSTACLE = ["-problem", "obstacle_control", "-problem_grid", "64", "-algorithm", "itd_vi",
            "-alg_b", "40000", "-alg_step", "2e5", "-alg_inner_iters", "30"]
# One hypergradient per distributed problem, by a method with a fixed amount of work (or a tight
# tolerance), so that only the reduction order differs between rank counts.
HYPERGRAD_CASES = {
    "obstacle_control": OBSTACLE,
    "quadratic": ["-problem", "quadratic", "-problem_ny", "300", "-algorithm", "itd",
                  "-alg_inner_iters", "50"],
    "box_qp_bilevel": ["-problem", "box_qp_bilevel", "-algorithm", "box_qp_hypergrad"],
    "cournot": ["-problem", "cournot", "-problem_firms", "1000", "-algorithm", "itd_vi",
                "-alg_b", "3.002", "-alg_step", "0.5", "-alg_inner_iters", "30"],
    "adversarial_ls": ["-problem", "adversarial_ls", "-algorithm", "exact"],
}


def read(path, *names):
    with h5py.File(path, "r") as f:
        return [f[name][()] for name in names]


def assert_agree(got, want, what, rtol=1e-10):
    """Max-norm relative difference: entries near zero are judged against the vector's scale."""
    assert got.shape == want.shape, what
    err = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300)
    assert err <= rtol, f"{what}: relative difference {err:.2e}"


def run_ok(run, *args, ranks):
    result = run(*args, ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", sorted(HYPERGRAD_CASES))
def test_hypergrad_files_agree_at_1_to_4_ranks(run, tmp_path, case):
    files = {}
    for ranks in RANKS:
        files[ranks] = tmp_path / f"g{ranks}.h5"
        run_ok(run, "-hypergrad", *HYPERGRAD_CASES[case], "-output", files[ranks], ranks=ranks)
    grad, x = read(files[1], "hypergrad", "x")
    for ranks in RANKS[1:]:
        other_grad, other_x = read(files[ranks], "hypergrad", "x")
        assert_agree(other_x, x, f"{case} /x at {ranks} ranks")
        assert_agree(other_grad, grad, f"{case} /hypergrad at {ranks} ranks")


def test_obstacle_x_and_state_move_between_rank_counts(run, tmp_path):
    # A short run at every rank count: the written iterates agree. x now varies over the grid
    # (unlike the constant initial load) by far more than the tolerance, so a permuted x fails.
    runs = {}
    for ranks in RANKS:
        runs[ranks] = tmp_path / f"run{ranks}.h5"
        run_ok(run, *OBSTACLE, "-outer_iters", "3", "-output", runs[ranks], ranks=ranks)
    x, y = read(runs[1], "x", "state/y")
    assert np.ptp(x) > 1e-6 * np.max(np.abs(x))
    for ranks in RANKS[1:]:
        other_x, other_y = read(runs[ranks], "x", "state/y")
        assert_agree(other_x, x, f"/x at {ranks} ranks")
        assert_agree(other_y, y, f"/state/y at {ranks} ranks")

    # -x_from across layouts: the 2 x 2 file read at 1 and 3 ranks, the 1-rank file at 4; every
    # one evaluates the hypergradient at that x and writes it back unchanged.
    grads = []
    for ranks, source in ((1, runs[4]), (3, runs[4]), (4, runs[1])):
        out = tmp_path / f"g{ranks}_from.h5"
        run_ok(run, "-hypergrad", *OBSTACLE, "-x_from", source, "-output", out, ranks=ranks)
        written_x, grad = read(out, "x", "hypergrad")
        assert_agree(written_x, read(source, "x")[0], f"-x_from at {ranks} ranks: /x", rtol=0)
        grads.append(grad)
    for grad in grads[1:]:
        assert_agree(grad, grads[0], "-x_from: /hypergrad")

    # -restart_from the 3-rank run on a 2 x 2 process grid (x and y read, then written, in the
    # other layout) continues it exactly as one straight 1-rank run.
    resumed = tmp_path / "resumed.h5"
    shutil.copy(runs[3], resumed)
    run_ok(run, *OBSTACLE, "-outer_iters", "6", "-restart_from", resumed, ranks=4)
    straight = tmp_path / "straight.h5"
    run_ok(run, *OBSTACLE, "-outer_iters", "6", "-output", straight, ranks=1)
    assert_agree(read(resumed, "x")[0], read(straight, "x")[0], "-restart_from: /x")
    assert_agree(read(resumed, "state/y")[0], read(straight, "state/y")[0],
                 "-restart_from: /state/y")
    assert_agree(trace(resumed)["upper_objective"], trace(straight)["upper_objective"],
                 "-restart_from: upper_objective")
