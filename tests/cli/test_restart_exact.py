"""A restarted run continues exactly: for every algorithm of the catalog, on a small problem it
applies to, N outer iterations in one go and the same run stopped after N/2 (by -outer_iters, or
for some by SIGTERM in the middle of an inner solve) and resumed with -restart_from give the same
trace (every column but the wall-clock ones), the same final x and the same lower iterate, to
1e-12 relative, at 1 and 2 ranks. Everything a step depends on must therefore be in /state."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import MPI_ENV, TORN_READ, compatibility_matrix, rank_pids, status_of, trace

TOLERANCE = 1e-12
TOTAL = 6  # outer iterations; the stopped run does TOTAL // 2 of them

# One small case per algorithm (more for some), each on a problem the algorithm applies to.
LOGREG = ["-problem", "logreg_hyper", "-problem_train", "100", "-problem_val", "50",
          "-problem_test", "50"]
FINITE_SUM = ["-problem", "finite_sum_quadratic", "-problem_n_inner", "256", "-problem_n_outer",
              "64", "-problem_dim_inner", "8", "-problem_dim_outer", "3"]
CASES = {
    "aid_logreg": ["-algorithm", "aid", *LOGREG],
    # Backtracking starts each iteration from twice the last accepted step: state too.
    "aid_quadratic_backtracking": ["-algorithm", "aid", "-problem", "quadratic", "-problem_ny",
                                   "50", "-alg_line_search", "backtracking", "-alg_step", "10"],
    "itd_logreg": ["-algorithm", "itd", *LOGREG],
    # The series is not warm-started: y and the outer step are its whole state.
    "aid_neumann_logreg": ["-algorithm", "aid_neumann", *LOGREG],
    "exact_quadratic": ["-algorithm", "exact", "-problem", "quadratic", "-problem_ny", "50"],
    # By default alpha and gamma follow the run length K = -outer_iters (the theorems'
    # choice), so runs of 3 and 6 iterations are different methods: fix them.
    "pgd_qp_toy_sc": ["-algorithm", "pgd_qp", "-problem", "toy_sc", "-alg_alpha", "0.55",
                      "-alg_gamma", "9e-5"],
    "bome_toy_sc": ["-algorithm", "bome", "-problem", "toy_sc"],
    "itd_vi_affine_vi_box": ["-algorithm", "itd_vi", "-problem", "affine_vi_box"],
    "kkt_vi_obstacle": ["-algorithm", "kkt_vi", "-problem", "obstacle_control", "-problem_grid",
                        "16"],
    # Grid sequencing starts the cold SNESVI solve on the 34^2 grid: the restart must not redo it.
    "kkt_vi_snesvi_obstacle": ["-algorithm", "kkt_vi", "-problem", "obstacle_control",
                               "-problem_grid", "70", "-alg_inner_solver", "snesvi"],
    "kkt_vi_snesvi_logreg": ["-algorithm", "kkt_vi", *LOGREG, "-alg_inner_solver", "snesvi",
                             "-alg_inner_gap_tol", "1e-8"],
    "bda_toy_sc": ["-algorithm", "bda", "-problem", "toy_sc"],
    "igfm_hard_liu": ["-algorithm", "igfm", "-problem", "hard_liu", "-problem_x0", "-1",
                      "-alg_igfm_batch", "2", "-alg_sgm_k0", "20", "-alg_sgm_k", "40"],
    "qp_hypergrad_qp_bilevel": ["-algorithm", "qp_hypergrad", "-problem", "qp_bilevel"],
    "box_qp_hypergrad_box_qp": ["-algorithm", "box_qp_hypergrad", "-problem", "box_qp_bilevel",
                                "-problem_ny", "100"],
    "box_qp_hypergrad_kkt": ["-algorithm", "box_qp_hypergrad", "-problem", "box_qp_bilevel",
                             "-problem_ny", "100", "-alg_oracle", "kkt"],
    # The draw counters and (saba) the five per-sample memories are state: without them the
    # resumed run draws other batches or restarts its estimates from zero. SABA writes its
    # memories only when asked (-alg_save_memories; test_saba_without_memories_refuses_restart).
    "soba_finite_sum_quadratic": ["-algorithm", "soba", *FINITE_SUM],
    "saba_finite_sum_quadratic": ["-algorithm", "saba", *FINITE_SUM, "-alg_save_memories"],
    # hyperclean's x-memory is compact (one value and x index per training sample). Without the
    # true ||grad Phi||, whose reference solves take minutes at 2 ranks on this instance.
    "saba_hyperclean": ["-algorithm", "saba", "-problem", "hyperclean", "-problem_train", "100",
                        "-problem_val", "50", "-problem_test", "50", "-alg_batch_size", "8",
                        "-alg_true_hypergrad", "false", "-alg_save_memories"],
    # fsla: also its momentum direction and previous x; f2sa: also the penalised z.
    "amigo_finite_sum_quadratic": ["-algorithm", "amigo", *FINITE_SUM],
    "f2sa_finite_sum_quadratic": ["-algorithm", "f2sa", *FINITE_SUM],
    "fsla_finite_sum_quadratic": ["-algorithm", "fsla", *FINITE_SUM],
    "stocbio_finite_sum_quadratic": ["-algorithm", "stocbio", *FINITE_SUM],
    # ttsa's and bsa's random Neumann lengths are a function of the iteration, which the state carries.
    "ttsa_finite_sum_quadratic": ["-algorithm", "ttsa", *FINITE_SUM],
    "bsa_finite_sum_quadratic": ["-algorithm", "bsa", *FINITE_SUM],
    # The recursive estimates and (srba, mrbo, sustain) the previous point are state: without
    # them the resumed run restarts its estimates from the wrong differences.
    "srba_finite_sum_quadratic": ["-algorithm", "srba", *FINITE_SUM],
    "mrbo_finite_sum_quadratic": ["-algorithm", "mrbo", *FINITE_SUM],
    "vrbo_finite_sum_quadratic": ["-algorithm", "vrbo", "-alg_period_frac", "0.4", *FINITE_SUM],
    "sustain_finite_sum_quadratic": ["-algorithm", "sustain", *FINITE_SUM],
    # Without a closed form, the reported ||grad Phi|| comes from Newton and CG solves
    # warm-started from the previous report's: y* and v* are state too.
    "soba_logreg": ["-algorithm", "soba", *LOGREG],
    "qp_layer_dfl_qp": ["-algorithm", "qp_layer", "-problem", "dfl_qp", "-problem_train", "16",
                        "-problem_test", "8", "-problem_batch", "4"],
    # The learning-rate schedule counts updates, SGD's too: the count is state.
    "qp_layer_dfl_qp_sgd_lr_decay": ["-algorithm", "qp_layer", "-problem", "dfl_qp",
                                     "-problem_train", "16", "-problem_test", "8",
                                     "-problem_batch", "4", "-alg_optimizer", "sgd",
                                     "-alg_lr_decay", "0.5", "-alg_lr_decay_every", "2"],
    # BatchNorm's running statistics live in x: the resumed run's test loss needs them.
    "qp_layer_dfl_qp_batchnorm": ["-algorithm", "qp_layer", "-problem", "dfl_qp", "-problem_model",
                                  "batchnorm", "-problem_hidden", "6", "-problem_train", "16",
                                  "-problem_test", "8", "-problem_batch", "4"],
}


def _algorithm(args):
    return args[args.index("-algorithm") + 1]


def is_timing(column):
    """Wall-clock columns (time, inner_time, forward_time, ...) differ between any two runs."""
    return column == "time" or column.endswith("_time")


def _relative(a, b):
    """Largest |a - b| / |b| over entries (0 where both agree exactly, NaNs must match)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    same_nan = np.isnan(a) == np.isnan(b)
    assert same_nan.all(), "NaN in one run only"
    finite = ~np.isnan(b)
    diff = np.abs(a[finite] - b[finite])
    scale = np.abs(b[finite])
    err = np.where(diff == 0, 0.0, diff / np.maximum(scale, 1e-300))
    return float(err.max(initial=0.0))


def differences(resumed, straight):
    """{what: max relative difference} over every non-timing trace column, /x and /state/y."""
    a, b = trace(resumed), trace(straight)
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    diffs = {column: _relative(a[column], b[column]) for column in b if not is_timing(column)}
    with h5py.File(resumed, "r") as fa, h5py.File(straight, "r") as fb:
        for name in ("x", "state/y"):
            if name in fb:
                diffs["/" + name] = _relative(fa[name][()], fb[name][()])
    return diffs


def test_every_algorithm_has_a_case(run):
    algorithms, _ = compatibility_matrix(run)
    covered = {_algorithm(args) for args in CASES.values()}
    assert set(algorithms) <= covered, f"no restart case for {sorted(set(algorithms) - covered)}"


@pytest.mark.parametrize("ranks", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_clean_stop_and_restart_continue_exactly(run, tmp_path, case, ranks):
    args = CASES[case]
    straight, resumed = tmp_path / "straight.h5", tmp_path / "resumed.h5"
    for out, iterations in ((straight, TOTAL), (resumed, TOTAL // 2)):
        result = run(*args, "-outer_iters", iterations, "-output", out, ranks=ranks, timeout=300)
        assert result.returncode == 0, result.stderr
    result = run(*args, "-outer_iters", TOTAL, "-restart_from", resumed, ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr
    assert status_of(resumed) == "completed"
    np.testing.assert_array_equal(trace(resumed)["iteration"], np.arange(TOTAL))
    diffs = differences(resumed, straight)
    worst = max(diffs, key=diffs.get)
    print(f"{case} at {ranks} rank(s): largest relative difference {diffs[worst]:.2e} ({worst})")
    assert diffs[worst] <= TOLERANCE, {k: f"{v:.2e}" for k, v in diffs.items() if v > TOLERANCE}


def test_saba_without_memories_refuses_restart(run, tmp_path):
    # By default SABA's /state lacks its memories (2.8 GB on hyperclean at the benchmark's size):
    # the file is small, and a restart, which could not continue the same run, is refused.
    args = CASES["saba_finite_sum_quadratic"][:-1]
    saved, unsaved = tmp_path / "saved.h5", tmp_path / "unsaved.h5"
    for out, extra in ((saved, ["-alg_save_memories"]), (unsaved, [])):
        result = run(*args, *extra, "-outer_iters", TOTAL // 2, "-output", out)
        assert result.returncode == 0, result.stderr
    with h5py.File(saved, "r") as f:
        assert "memory_hess_yy" in f["state"]
    with h5py.File(unsaved, "r") as f:
        assert not any(name.startswith("memory_") for name in f["state"])
        assert f["state"].attrs["restartable"] == 0
        assert "-alg_save_memories" in f["state"].attrs["not_restartable"].decode()
    with h5py.File(saved, "r") as f:
        assert f["state"].attrs["restartable"] == 1
        assert "not_restartable" not in f["state"].attrs
    before = unsaved.read_bytes()
    result = run(*args, "-outer_iters", TOTAL, "-restart_from", unsaved)
    assert result.returncode == 2, result.stderr
    assert "-alg_save_memories" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert unsaved.read_bytes() == before


# Runs whose iterations are long inner solves, so a signal lands inside one: the Krylov warm
# start, the line search's step and the inner iterate must all be those of the last whole step.
SIGNALLED = {
    "aid_quadratic_backtracking": ["-algorithm", "aid", "-problem", "quadratic", "-problem_ny",
                                   "100000", "-problem_cond", "1000", "-alg_inner_iters", "50",
                                   "-alg_line_search", "backtracking", "-alg_step", "10"],
    "itd_logreg": ["-algorithm", "itd", "-problem", "logreg_hyper", "-problem_train", "1000",
                   "-problem_val", "500", "-problem_test", "50", "-alg_inner_iters", "100"],
}
SIGNALLED_TOTAL = 8


@pytest.mark.parametrize("ranks", [1, 2])
@pytest.mark.parametrize("case", sorted(SIGNALLED))
def test_sigterm_and_restart_continue_exactly(exe, run, tmp_path, case, ranks):
    args = [*SIGNALLED[case], "-outer_iters", SIGNALLED_TOTAL]
    straight, resumed = tmp_path / "straight.h5", tmp_path / "resumed.h5"
    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    process = subprocess.Popen([*launcher, exe, *map(str, args), "-flush_interval", "0",
                                "-output", str(resumed)], env={**os.environ, **MPI_ENV},
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    rows, deadline = 0, time.time() + 120
    while rows < SIGNALLED_TOTAL // 3 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            rows = len(trace(resumed).get("iteration", []))
        except TORN_READ:
            rows = 0
    assert process.poll() is None, f"ended before the signal: {process.communicate()}"
    time.sleep(0.1)  # inside the next iteration's solves
    # At 2 ranks the ranks are signalled, as the Slurm template does: mpiexec would answer a
    # SIGTERM of its own by killing them about a second later, perhaps in the final write.
    targets = rank_pids(process.pid, exe) if ranks > 1 else [process.pid]
    assert len(targets) == ranks, targets
    for pid in targets:
        os.kill(pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert status_of(resumed) == "interrupted", stderr
    stopped_at = len(trace(resumed)["iteration"])
    assert 0 < stopped_at < SIGNALLED_TOTAL
    result = run(*args, "-restart_from", resumed, ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr
    result = run(*args, "-output", straight, ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(trace(resumed)["iteration"], np.arange(SIGNALLED_TOTAL))
    diffs = differences(resumed, straight)
    worst = max(diffs, key=diffs.get)
    print(f"{case} at {ranks} rank(s), SIGTERM after {stopped_at} rows: largest relative "
          f"difference {diffs[worst]:.2e} ({worst})")
    assert diffs[worst] <= TOLERANCE, {k: f"{v:.2e}" for k, v in diffs.items() if v > TOLERANCE}
