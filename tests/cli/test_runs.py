"""End-to-end runs: the result-file contract, hypergradient and export modes against an
independent numpy computation, rank agreement, restart, SIGTERM and divergence."""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from conftest import FINITE_SUM_SMALL, MPI_ENV, REPO, TORN_READ, status_of, trace

CONTRACT_ATTRS = {"format_version", "suite_version", "git_commit", "problem", "algorithm", "nranks",
                  "seed", "started_utc", "finished_utc", "hostname", "status", "options"}
CONTRACT_TRACE = {"iteration", "time", "upper_objective", "hypergrad_norm", "lower_residual"}


def is_timing(metric):
    """Wall-clock columns (time, inner_time, forward_time, ...) differ between any two runs."""
    return metric == "time" or metric.endswith("_time")


def test_result_file_names_the_commit_it_was_built_from(run, tmp_path):
    """git_commit is read at every build, not when CMake configured: a commit made after
    configuring (or an edit of a tracked file, "-dirty") must show in the next build's files."""
    if shutil.which("git") is None:
        pytest.skip("no git: the files say 'unknown'")
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO,
                          capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout: the files say 'unknown'")
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=REPO).returncode != 0
    out = tmp_path / "commit.h5"
    result = run("-problem", "quadratic", "-algorithm", "aid", "-outer_iters", "1", "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        recorded = f.attrs["git_commit"].decode()
    assert recorded == head.stdout.strip() + ("-dirty" if dirty else ""), \
        "rebuild after changing the sources: the executable is older than the tree"


def test_result_file_contract(run, tmp_path):
    out = tmp_path / "run.h5"
    result = run("-problem", "quadratic", "-algorithm", "aid", "-outer_iters", "7", "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert CONTRACT_ATTRS <= set(f.attrs)
        assert f.attrs["status"] == b"completed"
        assert CONTRACT_TRACE <= set(f["trace"])
        assert all(f["trace"][m].shape == (7,) for m in f["trace"])
        np.testing.assert_array_equal(f["trace/iteration"][()], np.arange(7))
        assert np.all(np.diff(f["trace/time"][()]) >= 0)
        assert f["x"].shape == (10,)
        rows = {(s.decode(), e.decode().strip())
                for s, e in zip(f["timing/stage"][()], f["timing/event"][()])}
        # aid's steps solve with KSP; reporting is logged apart from the timed steps.
        assert {("BBIterations", "BBHypergrad"), ("BBIterations", "KSPSolve")} <= rows
        assert ("BBReporting", "BBReport") in rows and ("BBIterations", "BBReport") not in rows
        assert f["trace"]["iteration"].chunks is not None  # chunked, extensible
        # Each step's phases (max over ranks): the inner solve lies inside the hypergradient,
        # which lies inside the step.
        step = np.diff(np.r_[0.0, f["trace/time"][()]])
        inner, hypergrad = f["trace/inner_time"][()], f["trace/hypergrad_time"][()]
        assert np.all(inner > 0) and np.all(inner <= hypergrad) and np.all(hypergrad <= step)
        assert f["trace"]["iteration"].maxshape == (None,)
        # Peak memory per rank: at least the executable's own resident size (MBs), and PETSc's
        # sampled size (from /proc/self/statm) within 10 % of the kernel's peak (getrusage),
        # which counts a little differently but the same resident pages.
        peak, petsc = f["memory/peak_rss_bytes"][()], f["memory/petsc_sampled_max_bytes"][()]
        assert peak.shape == petsc.shape == (1,)
        assert 1e6 < peak[0] < 1e11 and 1e6 < petsc[0] < 1.1 * peak[0]


def _quadratic_hypergradient_numpy(path, x):
    """grad Phi = r x + B' Q^{-1} C'(C y* - d), y* = Q^{-1}(Bx - c), from exported data alone."""
    with h5py.File(path, "r") as f:
        p = f["problem"]
        Q, B, c, C, d = (p[k][()] for k in ("Q", "B", "c", "C", "d"))
        r = p.attrs["r"]
    y = np.linalg.solve(Q, B @ x - c)
    return r * x + B.T @ np.linalg.solve(Q, C.T @ (C @ y - d))


@pytest.mark.parametrize("ranks", [1, 2])
def test_export_and_hypergrad_agree_with_numpy(run, tmp_path, ranks):
    opts = ["-problem", "quadratic", "-problem_ny", "80", "-problem_nx", "5", "-problem_cond", "15"]
    exported = tmp_path / "data.h5"
    assert run("-export_problem", exported, *opts, ranks=ranks).returncode == 0
    with h5py.File(exported, "r") as f:
        x0 = f["problem/x0"][()]
    x = x0 + 0.25
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = x
    expected = _quadratic_hypergradient_numpy(exported, x)
    for algorithm, extra, tol in [("exact", [], 1e-10),
                                  ("aid", ["-alg_inner_iters", "2000", "-alg_ksp_rtol", "1e-14"], 1e-8)]:
        out = tmp_path / f"g_{algorithm}.h5"
        result = run("-hypergrad", *opts, "-algorithm", algorithm, *extra, "-x_from",
                     tmp_path / "x.h5", "-output", out, ranks=ranks)
        assert result.returncode == 0, result.stderr
        with h5py.File(out, "r") as f:
            got = f["hypergrad"][()]
            assert f.attrs["status"] == b"completed"
        assert np.linalg.norm(got - expected) <= tol * np.linalg.norm(expected), algorithm



def _box_qp_hypergradient_numpy(path, x):
    """Rebuilds box_qp_bilevel from its export, solves the box QP by a primal-dual active-set
    method (finite for the M-matrix H; independent of TAO) and differentiates on its free rows."""
    with h5py.File(path, "r") as f:
        p = f["problem"]
        c, d, lo, hi = (p[k][()] for k in ("c", "d", "lower", "upper"))
        shift, r = p.attrs["shift"], p.attrs["r"]
    ny, nx = c.size, x.size
    H = np.diag(np.full(ny, 2.0 + shift)) - np.eye(ny, k=1) - np.eye(ny, k=-1)
    t = (np.arange(ny) + 0.5) / ny
    j = np.minimum((t * (nx - 1)).astype(int), nx - 2)
    w = t * (nx - 1) - j
    B = np.zeros((ny, nx))
    B[np.arange(ny), j] = 1.0 - w
    B[np.arange(ny), j + 1] = w
    q = B @ x + c
    at_lo = np.zeros(ny, bool)
    at_hi = np.zeros(ny, bool)
    for _ in range(100):
        y = np.where(at_lo, lo, np.where(at_hi, hi, 0.0))
        free = ~(at_lo | at_hi)
        y[free] = np.linalg.solve(H[np.ix_(free, free)], q[free] - H[np.ix_(free, ~free)] @ y[~free])
        lam = H @ y - q
        new_lo, new_hi = lam + (lo - y) > 0, lam + (hi - y) < 0
        if np.array_equal(new_lo, at_lo) and np.array_equal(new_hi, at_hi):
            break
        at_lo, at_hi = new_lo, new_hi
    adjoint = np.zeros(ny)
    adjoint[free] = np.linalg.solve(H[np.ix_(free, free)], (y[free] - d[free]) / ny)
    return r * x + B.T @ adjoint, free.sum()


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_box_qp_export_and_hypergrad_agree_with_numpy(run, tmp_path, ranks):
    opts = ["-problem", "box_qp_bilevel", "-problem_ny", "300", "-problem_nx", "6"]
    exported = tmp_path / "data.h5"
    assert run("-export_problem", exported, *opts, ranks=ranks).returncode == 0
    with h5py.File(exported, "r") as f:
        x = f["problem/x0"][()]
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = x
    expected, n_free = _box_qp_hypergradient_numpy(exported, x)
    assert 30 <= n_free <= 270  # both kinds of rows
    for oracle, solver in (("ffoqp", "active_set"), ("kkt", "active_set"), ("ffoqp", "tao")):
        out = tmp_path / f"g_{oracle}_{solver}.h5"
        result = run("-hypergrad", *opts, "-algorithm", "box_qp_hypergrad", "-alg_oracle", oracle,
                     "-alg_lower_solver", solver, f"-alg_{solver}_rtol", "1e-13",
                     "-x_from", tmp_path / "x.h5", "-output", out, ranks=ranks)
        assert result.returncode == 0, result.stderr
        with h5py.File(out, "r") as f:
            got = f["hypergrad"][()]
        assert np.linalg.norm(got - expected) <= 1e-9 * np.linalg.norm(expected), (oracle, solver)

RANK_CASES = {
    "quadratic_aid": ["-problem", "quadratic", "-algorithm", "aid", "-problem_ny", "500",
                      "-outer_iters", "15", "-alg_step", "0.5"],
    "quadratic_itd": ["-problem", "quadratic", "-algorithm", "itd", "-problem_ny", "500",
                      "-outer_iters", "15", "-alg_line_search", "backtracking"],
    "toy_sc_itd": ["-problem", "toy_sc", "-algorithm", "itd", "-outer_iters", "20", "-alg_step",
                   "0.05", "-alg_inner_iters", "30"],
    "logreg_itd": ["-problem", "logreg_hyper", "-algorithm", "itd", "-problem_train", "400",
                   "-problem_val", "300", "-problem_test", "200", "-problem_corruption", "0.2",
                   "-outer_iters", "4", "-alg_inner_iters", "5", "-alg_step", "50"],
    # The IGFM paper's IGFM: random directions indexed by (iteration, direction, coordinate) only.
    "hard_liu_igfm": ["-problem", "hard_liu", "-algorithm", "igfm", "-problem_x0", "-1",
                      "-alg_igfm_batch", "4", "-alg_sgm_k0", "50", "-alg_sgm_k", "100",
                      "-outer_iters", "4"],
    "hard_liu_bda": ["-problem", "hard_liu", "-algorithm", "bda", "-problem_x0", "-1",
                     "-alg_inner_eta", "0.2", "-alg_inner_iters", "20", "-outer_iters", "10"],
    # The PGD-QP paper's hyper-cleaning, PCA-82, at the paper's lambda = 1e-3: the basis comes from a
    # reduced Gram matrix, so every rank count must project onto the same components. The
    # reporting-only true-hypergradient CG is off: at lambda = 1e-3 it needs ~130 iterations and
    # the count varies by one or two with the reduction order, i.e. that diagnostic agrees only
    # to its tolerance; the method's own steps involve no Krylov solve.
    "hyperclean_pca_pgd_qp": ["-problem", "hyperclean", "-problem_pca", "82", "-problem_train",
                              "600", "-problem_val", "300", "-problem_test", "200",
                              "-algorithm", "pgd_qp", "-alg_true_hypergrad", "false",
                              "-outer_iters", "50"],
    # Kaushik & Jin's VI instances: the replicated affine VI (with the exact-gradient check traced)
    # and the DMDA obstacle problem at 64^2, whose layout changes with the rank count. b = 4e4
    # (> L/2 for the symmetric K) contracts far faster than the default L^2/mu.
    "affine_vi_itd_vi": ["-problem", "affine_vi_box", "-algorithm", "itd_vi", "-outer_iters", "10",
                         "-alg_inner_iters", "40", "-alg_check_exact"],
    "obstacle_itd_vi": ["-problem", "obstacle_control", "-problem_grid", "64", "-algorithm",
                        "itd_vi", "-alg_b", "40000", "-alg_step", "2e5", "-alg_inner_iters", "30",
                        "-outer_iters", "6"],
    # Kaushik & Jin's Nash-Cournot game: firms distributed, firm data from CounterRng by global index,
    # the rank-one part of grad_y F a global sum. b = L (symmetric Jacobian) contracts at ~0.83.
    "cournot_itd_vi": ["-problem", "cournot", "-problem_firms", "1000", "-algorithm", "itd_vi",
                       "-alg_b", "3.002", "-alg_step", "0.5", "-alg_inner_iters", "30",
                       "-outer_iters", "8"],
    # The FFO-layer paper's decision-focused learning: each rank solves its block of the minibatch's QPs,
    # one Allreduce sums the model gradient (forward_time/backward_time are timings).
    "dfl_qp_ffoqp": ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-alg_oracle", "ffoqp",
                     "-problem_train", "64", "-problem_test", "16", "-problem_batch", "8",
                     "-outer_iters", "8", "-alg_lr", "0.01"],
    # The MLP predictor: its model gradient is back-propagated per sample, then reduced.
    "dfl_qp_mlp_kkt": ["-problem", "dfl_qp", "-problem_model", "mlp", "-problem_hidden", "8",
                       "-algorithm", "qp_layer", "-alg_oracle", "kkt", "-problem_train", "64",
                       "-problem_test", "16", "-problem_batch", "8", "-outer_iters", "8",
                       "-alg_lr", "0.01"],
    # The paper's BatchNorm predictor: the minibatch's statistics and the sums of its backward pass
    # are reduced across the ranks; the test loss uses the running statistics.
    "dfl_qp_batchnorm_ffoqp": ["-problem", "dfl_qp", "-problem_model", "batchnorm",
                               "-problem_features", "24", "-problem_hidden", "8",
                               "-algorithm", "qp_layer", "-alg_oracle", "ffoqp",
                               "-problem_train", "64", "-problem_test", "16", "-problem_batch",
                               "8", "-outer_iters", "8", "-alg_lr", "0.01"],
    "sudoku_lp_kkt": ["-problem", "sudoku_lp", "-algorithm", "qp_layer", "-alg_oracle", "kkt",
                      "-problem_train", "16", "-problem_test", "4", "-problem_batch", "4",
                      "-outer_iters", "4", "-alg_lr", "0.1"],
    # 9x9 (729 indicators, 249 learned rows): the interior point's diagonal Newton path, the
    # polish's eliminated bounds and ffoqp's backward on the polished factor; the learning-rate
    # decay of the long run (docs/ffo-qp-layers.md), here after the first update.
    "sudoku9_lp_ffoqp": ["-problem", "sudoku_lp", "-problem_size", "9", "-algorithm", "qp_layer",
                         "-alg_oracle", "ffoqp", "-problem_train", "8", "-problem_test", "4",
                         "-problem_batch", "4", "-outer_iters", "3", "-alg_lr", "0.1",
                         "-alg_lr_decay", "0.5", "-alg_lr_decay_every", "1"],
    # The FFO-layer paper at scale: TAO (TRON, CG with Jacobi inside) on a distributed box QP, then the
    # reduced CG (ffoqp, on a submatrix whose rows move between ranks) or the 3n KKT GMRES (kkt).
    "box_qp_ffoqp": ["-problem", "box_qp_bilevel", "-algorithm", "box_qp_hypergrad",
                     "-alg_oracle", "ffoqp", "-outer_iters", "6"],
    "box_qp_kkt": ["-problem", "box_qp_bilevel", "-algorithm", "box_qp_hypergrad", "-alg_oracle",
                   "kkt", "-outer_iters", "6"],
}


@pytest.mark.parametrize("case", sorted(RANK_CASES))
def test_same_trace_on_1_2_4_ranks(run, tmp_path, case):
    traces = {}
    for ranks in (1, 2, 4):
        out = tmp_path / f"r{ranks}.h5"
        result = run(*RANK_CASES[case], "-output", out, ranks=ranks, timeout=300)
        assert result.returncode == 0, result.stderr
        traces[ranks] = trace(out)
    for ranks in (2, 4):
        for metric, values in traces[1].items():
            if is_timing(metric):
                continue
            other = traces[ranks][metric]
            finite = np.isfinite(values)
            np.testing.assert_array_equal(finite, np.isfinite(other))
            scale = np.maximum(np.abs(values[finite]), 1e-300)
            err = np.max(np.abs(values[finite] - other[finite]) / scale, initial=0.0)
            assert err <= 1e-10, f"{case} {metric}: {ranks} ranks differ by {err:.2e}"


def test_igfm_rank_groups_give_the_same_trace(run, tmp_path):
    """IGFM's 2B = 16 evaluations of phi_tilde on one group of 2 ranks or on 2 groups of one:
    the directions are indexed by (iteration, direction, coordinate) and the values combined by
    one Allreduce, so the trace must not change (docs/algorithms.md §5.3, our batch extension)."""
    base = ["-problem", "hard_liu", "-algorithm", "igfm", "-problem_x0", "-1", "-alg_eta", "0.1",
            "-alg_delta", "0.05", "-alg_igfm_batch", "8", "-alg_sgm_k0", "50", "-alg_sgm_k",
            "150", "-outer_iters", "6"]
    traces = {}
    for groups in (1, 2):
        out = tmp_path / f"g{groups}.h5"
        result = run(*base, "-alg_groups", groups, "-output", out, ranks=2, timeout=300)
        assert result.returncode == 0, result.stderr
        traces[groups] = trace(out)
    assert {"phi_tilde", "sgm_f_steps", "hypergrad_norm"} <= set(traces[1])
    for metric, values in traces[1].items():
        if is_timing(metric):
            continue
        scale = np.maximum(np.abs(values), 1e-300)
        err = np.max(np.abs(values - traces[2][metric]) / scale, initial=0.0)
        assert err <= 1e-10, f"igfm {metric}: 2 groups differ from 1 by {err:.2e}"


@pytest.mark.parametrize("base, first, total, metric", [
    (["-problem", "quadratic", "-algorithm", "aid", "-alg_inner_iters", "3"], 6, 14,
     "upper_objective"),
    # qp_layer's restart state: the minibatch counter and Adam's moments (/state).
    (["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_train", "32", "-problem_test",
      "0", "-problem_batch", "4", "-alg_lr", "0.01"], 5, 11, "train_loss"),
], ids=["quadratic_aid", "dfl_qp_qp_layer"])
def test_restart_continues_the_trace(run, tmp_path, base, first, total, metric):
    out = tmp_path / "run.h5"
    assert run(*base, "-outer_iters", first, "-output", out).returncode == 0
    result = run(*base, "-outer_iters", total, "-restart_from", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:  # each start of the run adds its options
        assert len(f.attrs["options_history"].decode().splitlines()) == 2
    straight = tmp_path / "straight.h5"
    assert run(*base, "-outer_iters", total, "-output", straight).returncode == 0
    resumed, reference = trace(out), trace(straight)
    np.testing.assert_array_equal(resumed["iteration"], np.arange(total))
    np.testing.assert_allclose(resumed[metric], reference[metric], rtol=1e-12)
    assert status_of(out) == "completed"


def test_qp_reductions_train_alike(run, tmp_path):
    """The interior point's two reductions of its Newton systems (-alg_qp_reduction): the same
    iterates up to rounding, so the same training trace. dfl_qp's 101 x 50 layers take y by
    default (fewer flops), so forcing the multipliers runs the other path. (The polished
    solutions are equal to the last bit; that the option reaches the solver is
    InteriorPointQp.ReductionIsAnOption's.)"""
    base = ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_train", "32",
            "-problem_test", "8", "-problem_batch", "4", "-outer_iters", "6", "-alg_lr", "0.01"]
    reference = tmp_path / "y.h5"
    assert run(*base, "-alg_qp_reduction", "y", "-output", reference).returncode == 0
    for ranks in (1, 2, 4):
        out = tmp_path / f"multipliers_np{ranks}.h5"
        result = run(*base, "-alg_qp_reduction", "multipliers", "-output", out, ranks=ranks)
        assert result.returncode == 0, result.stderr
        assert status_of(out) == "completed"
        for metric in ("train_loss", "test_loss"):
            np.testing.assert_allclose(trace(out)[metric], trace(reference)[metric], rtol=1e-9,
                                       err_msg=f"{metric}, {ranks} ranks")
        # The written datasets too: the final model and the optimizer's state.
        with h5py.File(out, "r") as f, h5py.File(reference, "r") as g:
            for name in ("x", "state/adam_m", "state/adam_v", "state/y"):
                np.testing.assert_allclose(f[name][()], g[name][()], rtol=1e-9, atol=1e-14,
                                           err_msg=f"{name}, {ranks} ranks")


@pytest.mark.parametrize("ranks", [1, 2])
def test_sigterm_leaves_an_interrupted_valid_file(exe, tmp_path, ranks):
    out = tmp_path / "long.h5"
    # One rank: the signal goes to bilevelbench itself, whose exit code is 3. Two ranks:
    # mpiexec forwards it to every rank (and exits with a code of its own).
    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    command = [*launcher, exe, "-problem", "quadratic", "-algorithm", "itd", "-problem_ny",
               "200000", "-alg_inner_iters", "20", "-outer_iters", "100000", "-flush_interval",
               "0.2", "-output", str(out)]
    process = subprocess.Popen(command, env={**os.environ, **MPI_ENV}, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    rows = 0
    while time.time() < deadline and rows < 5:
        time.sleep(0.3)
        try:
            with h5py.File(out, "r", locking=False) as f:
                rows = f["trace/iteration"].shape[0] if "trace/iteration" in f else 0
                assert f.attrs["status"] == b"running"
        except TORN_READ:
            rows = 0
    assert rows >= 5, "the run never flushed a trace"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == (3 if ranks == 1 else process.returncode) != 0, stderr
    assert status_of(out) == "interrupted"
    t = trace(out)
    np.testing.assert_array_equal(t["iteration"], np.arange(len(t["iteration"])))
    assert len(t["iteration"]) >= rows
    with h5py.File(out, "r") as f:
        assert f["x"].shape == (10,) and np.all(np.isfinite(f["x"][()]))


def test_nan_in_data_ends_diverged(run, tmp_path):
    out = tmp_path / "nan.h5"
    result = run("-problem", "quadratic", "-algorithm", "aid", "-problem_inject_nan",
                 "-outer_iters", "50", "-output", out, ranks=2)
    assert result.returncode == 4, result.stderr
    assert status_of(out) == "diverged"
    assert len(trace(out)["iteration"]) == 1


def test_list_and_help(run):
    listing = run("-list")
    assert listing.returncode == 0
    for name in ("quadratic", "toy_sc", "logreg_hyper", "aid", "itd", "exact"):
        assert name in listing.stdout
    helped = run("-help", "-problem", "quadratic", "-algorithm", "aid")
    assert helped.returncode == 0
    for option in ("-problem_ny", "-alg_inner_iters", "-alg_ksp_type", "-outer_iters", "-tol"):
        assert option in helped.stdout


def test_list_matrix_marks_stand_under_their_column_numbers(run):
    # The name column is as wide as the longest name (finite_sum_quadratic, 20 characters, once
    # pushed its row 2 characters right of the header).
    out = run("-list").stdout
    lines = out[out.index("Compatibility"):].splitlines()
    header, rows = lines[1], lines[2:-1]
    number_ends = [m.end() - 1 for m in re.finditer(r"\d+", header)]
    for row in rows:
        name = row.split()[0]
        marks = [m.start() for m in re.finditer(r"\S+", row)][1:1 + len(number_ends)]
        assert marks == number_ends, name


def test_quick_suite_runs_valid(run, tmp_path):
    """The default suite, validated: every run completes with validity `valid` and a passed or
    not-applicable -validate check. (Its time is a benchmark's business, not a test's.)"""
    result = run(ranks=2, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "upper objective" in result.stdout and "validity" in result.stdout
    with h5py.File(tmp_path / "results" / "quick_suite.h5", "r") as f:
        groups = list(f)
        assert len(groups) >= 8
        assert all(f[g].attrs["status"] in (b"completed", b"converged") for g in groups)
        assert all(f[g].attrs["validity"] == b"valid" for g in groups), \
            {g: f[g].attrs["validity"] for g in groups}
        assert all(f[g]["validation"].attrs["verdict"] in (b"passed", b"not applicable")
                   for g in groups if "validation" in f[g])
        assert sum("validation" in f[g] for g in groups) >= len(groups) - 2
        assert all(f[g].attrs["nranks"] == 2 for g in groups)
        assert f.attrs["status"] == b"completed"  # the suite file's own status
    # Its numbers (final objective, hypergradient error, iterations to |grad| <= 1e-6) against
    # the committed reference values and tolerances: a change of a number is caught here.
    # BB_UPDATE_REFERENCE=1 rewrites both references after an intended change of numbers.
    mode = "--write-reference" if os.environ.get("BB_UPDATE_REFERENCE") else "--reference"
    check = subprocess.run(
        [sys.executable, str(REPO / "analysis" / "bba"), "regress",
         str(tmp_path / "results" / "quick_suite.h5"), mode,
         str(REPO / "benchmarks" / "reference" / "quick-suite.json")],
        capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    _compare_with_reference(tmp_path / "results" / "quick_suite.h5")


# The quick suite's numbers, stored when they were last meant to change: a refactor must leave
# every trace column and every /x bit-identical (BB_UPDATE_REFERENCE=1 rewrites the file; do it
# only for a change of numbers that a commit explains).
QUICK_REFERENCE = REPO / "tests" / "data" / "quick_suite_reference.h5"


def _numbers(path):
    """{(group, column): values} of every non-timing trace column and /x of a suite file."""
    with h5py.File(path, "r") as f:
        out = {}
        for group in f:
            for column in f[group]["trace"]:
                if not is_timing(column):
                    out[group, column] = f[group]["trace"][column][()]
            out[group, "x"] = f[group]["x"][()]
        return out


def _compare_with_reference(path):
    now = _numbers(path)
    if os.environ.get("BB_UPDATE_REFERENCE"):
        QUICK_REFERENCE.parent.mkdir(exist_ok=True)
        with h5py.File(QUICK_REFERENCE, "w") as f:
            for (group, column), values in now.items():
                f.create_dataset(f"{group}/{column}", data=values, compression="gzip")
    with h5py.File(QUICK_REFERENCE, "r") as f:
        stored = {(group, column): f[group][column][()] for group in f for column in f[group]}
    assert sorted(now) == sorted(stored), set(now) ^ set(stored)
    changed = {key: (float(np.nanmax(np.abs(now[key] - stored[key])))
                     if now[key].shape == stored[key].shape else "shape")
               for key in stored
               if now[key].shape != stored[key].shape
               or not np.array_equal(now[key], stored[key], equal_nan=True)}
    assert not changed, f"quick-suite numbers differ from {QUICK_REFERENCE.name}: {changed}"


def test_report_every_thins_reporting_only_metrics(run, tmp_path):
    """A joint method's true hypergradient (a CG solve, reporting only) and the problem's
    metrics follow -report_every: rows 0, 3, 6 and the last carry them, the rest NaN."""
    out = tmp_path / "thin.h5"
    result = run("-problem", "toy_sc", "-algorithm", "pgd_qp", "-outer_iters", "8",
                 "-report_every", "3", "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        reported = np.isfinite(f["trace/hypergrad_norm"][()])
        ksp = np.isfinite(f["trace/hypergrad_ksp_iterations"][()])
        objective = np.isfinite(f["trace/upper_objective"][()])
    expected = np.array([k % 3 == 0 or k == 7 for k in range(8)])
    np.testing.assert_array_equal(reported, expected)
    np.testing.assert_array_equal(ksp, expected)
    assert objective.all()


def test_objective_every_thins_full_data_evaluations(run, tmp_path):
    """A stochastic step costs a minibatch, the full-data objective and residual a pass over the
    data: -objective_every 3 evaluates them on rows 0, 3, 6 and the last, with the values a run
    evaluating every row writes there, and changes nothing else in the trace or the iterate."""
    traces = {}
    for every in (1, 3):
        out = tmp_path / f"every{every}.h5"
        result = run(*FINITE_SUM_SMALL, "-algorithm", "soba", "-outer_iters", "8",
                     "-objective_every", str(every), "-output", out)
        assert result.returncode == 0, result.stderr
        with h5py.File(out, "r") as f:
            traces[every] = {name: f["trace"][name][()] for name in f["trace"]}
            traces[every]["/x"] = f["x"][()]
    evaluated = np.array([k % 3 == 0 or k == 7 for k in range(8)])
    for name in ("upper_objective", "lower_residual"):
        thinned, full = traces[3][name], traces[1][name]
        np.testing.assert_array_equal(np.isfinite(thinned), evaluated)
        np.testing.assert_array_equal(thinned[evaluated], full[evaluated])
    for name in traces[1]:
        if name not in ("upper_objective", "lower_residual") and not is_timing(name):
            np.testing.assert_array_equal(traces[3][name], traces[1][name], err_msg=name)


def test_objective_every_evaluates_the_row_a_time_budget_ends_on(run, tmp_path):
    """The last row under a time budget is not known from the iteration count: it still carries
    the objective, and the summary line's final f is that row's, not NaN."""
    out = tmp_path / "budget.h5"
    result = run(*FINITE_SUM_SMALL, "-algorithm", "soba", "-outer_iters", "100000000",
                 "-time_budget", "0.3", "-objective_every", "1000000", "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        objective = f["trace/upper_objective"][()]
    assert len(objective) > 2 and np.isfinite(objective[[0, -1]]).all()
    assert np.isnan(objective[1:-1]).all()
    assert "nan" not in result.stdout.lower(), result.stdout


def test_objective_every_still_stops_a_blow_up(run, tmp_path):
    """Rows without the objective still watch ||x|| and ||y||: AID on hard_liu blows up and ends
    `diverged` although its objective is evaluated only on row 0."""
    out = tmp_path / "d.h5"
    result = run("-problem", "hard_liu", "-algorithm", "aid", "-allow_weaker_convexity",
                 "-outer_iters", "100", "-objective_every", "1000", "-output", out)
    assert result.returncode == 4, result.stderr
    assert status_of(out) == "diverged"


def test_true_hypergradient_report_can_be_switched_off(run, tmp_path):
    out = tmp_path / "off.h5"
    result = run("-problem", "toy_sc", "-algorithm", "bome", "-outer_iters", "3",
                 "-alg_true_hypergrad", "false", "-output", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert "hypergrad_ksp_iterations" not in f["trace"]
        assert np.isnan(f["trace/hypergrad_norm"][()]).all()
        assert np.isfinite(f["trace/upper_objective"][()]).all()
