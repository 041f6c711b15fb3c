"""Faults a long run meets: a full file system, and a signal in the middle of a long inner solve.
Each must end quickly, collectively, with one line saying what happened and a readable file
holding everything flushed before it."""
import os
import resource
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import MPI_ENV, TORN_READ, rank_pids, status_of, trace


@pytest.fixture
def small_disk(tmp_path, request):
    """A tmpfs of request.param bytes (e.g. "64k"): the result file fills it."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)  # -l: even if a hung run holds it


RUN = ["-problem", "quadratic", "-algorithm", "aid", "-problem_ny", "50", "-flush_interval", "0"]


# 64 KiB: full before the first row is flushed; 256 KiB: full after the first.
@pytest.mark.parametrize("small_disk,flushed_rows", [("64k", 0), ("256k", 1)],
                         indirect=["small_disk"], ids=["64k", "256k"])
@pytest.mark.parametrize("ranks", [1, 2])
def test_full_disk_ends_at_once_with_the_reason_and_a_readable_file(run, tmp_path, small_disk,
                                                                    flushed_rows, ranks):
    out = small_disk / "run.h5"
    start = time.time()
    result = run(*RUN, "-outer_iters", "3000", "-output", out, ranks=ranks, timeout=60)
    seconds = time.time() - start
    print(f"full disk at {ranks} rank(s): ended after {seconds:.2f} s")
    assert seconds < 10, f"took {seconds:.1f} s"
    assert result.returncode == 6, result.stderr  # mpiexec passes the ranks' common code on
    ours = [line for line in result.stderr.splitlines() if line.startswith("bilevelbench")]
    assert ours == [f"bilevelbench: I/O error: writing '{out}' failed on rank 0: No space left "
                    "on device (claiming space for the next write)"], result.stderr
    assert "HDF5-DIAG" not in result.stderr
    # Readable, still "running" (nothing claims the run ended), with exactly the rows flushed
    # before the disk filled, equal to those of the same run on a roomy disk.
    assert status_of(out) == "running"
    rows = trace(out)
    assert len(rows.get("iteration", [])) == flushed_rows
    if flushed_rows:
        reference = tmp_path / "reference.h5"
        assert run(*RUN, "-outer_iters", flushed_rows, "-output", reference).returncode == 0
        np.testing.assert_array_equal(rows["upper_objective"],
                                      trace(reference)["upper_objective"])


def _start(exe, tmp_path, ranks, args):
    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    return subprocess.Popen([*launcher, exe, *map(str, args)], env={**os.environ, **MPI_ENV},
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_running(process, out, seconds=120):
    """Waits until the run's file exists (setup done, the loop started)."""
    deadline = time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        if status_of(out) == "running":
            return
        time.sleep(0.1)
    pytest.fail(f"the run never started: {process.communicate()[1]}")


# Each first outer iteration is one long inner solve (tens of seconds without the check).
LONG_INNER_SOLVES = {
    "kkt_vi_logreg": ["-problem", "logreg_hyper", "-algorithm", "kkt_vi", "-problem_train", "2000",
                      "-problem_val", "2000", "-problem_test", "100", "-alg_inner_rtol", "0",
                      "-alg_inner_max_iters", "100000000"],
    # Cold Newton from the obstacle (grid sequencing off): its many steps outlast the signal;
    # sequenced, or at 400^2, the first step ended (1.7-1.8 s) before it on the idle CI machine.
    "snesvi_obstacle": ["-problem", "obstacle_control", "-problem_grid", "900", "-algorithm",
                        "kkt_vi", "-alg_inner_solver", "snesvi", "-alg_inner_gap_tol", "0",
                        "-alg_snesvi_snes_max_it", "100000000", "-alg_grid_sequence", "false"],
    # A minibatch of 2048 dense QPs of 150 unknowns: each rank's loop of interior-point solves
    # takes several seconds even on an idle machine (512 took 1.6 s at 2 ranks, so the step
    # could end before the signal).
    "qp_layer_dfl_qp": ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_n", "150",
                        "-problem_train", "2048", "-problem_test", "0", "-problem_batch", "2048"],
}

@pytest.mark.parametrize("ranks", [1, 2])
@pytest.mark.parametrize("case", sorted(LONG_INNER_SOLVES))
def test_sigterm_inside_a_long_inner_solve_stops_within_two_seconds(exe, tmp_path, case, ranks):
    out = tmp_path / "long.h5"
    process = _start(exe, tmp_path, ranks,
                     LONG_INNER_SOLVES[case] + ["-outer_iters", "5", "-output", out])
    _wait_for_running(process, out)
    time.sleep(1.0)  # well inside the first inner solve
    assert process.poll() is None, process.communicate()
    signalled = time.time()
    process.send_signal(signal.SIGTERM)
    # The ranks' own stop: the file says "interrupted" (under mpiexec, the launcher then takes
    # its own fixed time, ~2 s with Open MPI's defaults, to tear the job down).
    while status_of(out) != "interrupted" and time.time() < signalled + 30:
        time.sleep(0.02)
    seconds = time.time() - signalled
    _, stderr = process.communicate(timeout=60)
    print(f"{case} at {ranks} rank(s): stopped {seconds:.2f} s after SIGTERM, exited after "
          f"{time.time() - signalled:.2f} s")
    assert seconds < 2.0, f"{case} at {ranks} rank(s) took {seconds:.2f} s to stop"
    assert process.returncode == (3 if ranks == 1 else process.returncode) != 0, stderr
    assert status_of(out) == "interrupted"
    # Stopped inside iteration 0: no half-done row, and the starting x kept.
    assert len(trace(out).get("iteration", [])) == 0
    with h5py.File(out, "r") as f:
        assert np.all(np.isfinite(f["x"][()]))
    # The interrupted file is a valid restart point (its run's options; no iteration, to
    # finish here: test_runs.py resumes an interrupted trace and compares it).
    resumed = subprocess.run([exe, *map(str, LONG_INNER_SOLVES[case]), "-outer_iters", "0",
                              "-restart_from", out], cwd=tmp_path,
                             env={**os.environ, **MPI_ENV}, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert status_of(out) == "completed"


def test_kill_9_of_one_rank_leaves_a_readable_file_that_resumes(exe, run, tmp_path):
    """A node lost (SIGKILL of rank 1 of 2): mpiexec tears the job down (bounded here), the file
    keeps every flushed row with status `running` (what a requeue treats as resumable), and
    -restart_from continues it to the end."""
    out = tmp_path / "killed.h5"
    args = ["-problem", "quadratic", "-algorithm", "itd", "-problem_ny", "200000",
            "-alg_inner_iters", "20"]
    process = _start(exe, tmp_path, 2, [*args, "-outer_iters", "100000", "-flush_interval",
                                        "0.5", "-output", out])
    rows, deadline = 0, time.time() + 120
    while rows < 3 and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
        try:
            rows = len(trace(out).get("iteration", []))
        except TORN_READ:
            rows = 0
    assert rows >= 3, f"the run never flushed three rows: {process.poll()}"
    # Just after a flush, so the kill lands between two (the next is 0.5 s away).
    ranks = rank_pids(process.pid, exe)
    assert len(ranks) == 2, ranks
    os.kill(ranks[-1], signal.SIGKILL)
    killed = time.time()
    try:
        process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        for pid in [process.pid, *rank_pids(process.pid, exe)]:
            os.kill(pid, signal.SIGKILL)
        pytest.fail("the job hung after one rank was killed")
    print(f"kill -9 of one rank of 2: the job ended {time.time() - killed:.2f} s later, "
          f"exit {process.returncode}")
    assert process.returncode != 0
    assert status_of(out) == "running"
    flushed = trace(out)["iteration"]
    assert len(flushed) >= rows
    np.testing.assert_array_equal(flushed, np.arange(len(flushed)))
    total = len(flushed) + 3
    resumed = run(*args, "-outer_iters", total, "-restart_from", out, ranks=2, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert status_of(out) == "completed"
    np.testing.assert_array_equal(trace(out)["iteration"], np.arange(total))


@pytest.mark.parametrize("ranks", [1, 2])
def test_out_of_memory_says_so_with_the_size_and_leaves_no_file(exe, tmp_path, ranks):
    """500M unknowns under a 2 GiB address-space limit (ulimit -v): one line per rank naming
    memory, the size asked for and the option that set it; exit code 7; no file."""
    out = tmp_path / "big.h5"
    limit = 2 << 30

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    result = subprocess.run([*launcher, exe, "-problem", "quadratic", "-algorithm", "aid",
                             "-problem_ny", "500000000", "-output", str(out)], cwd=tmp_path,
                            env={**os.environ, **MPI_ENV}, capture_output=True, text=True,
                            timeout=120, preexec_fn=limit_memory)
    assert result.returncode == 7, result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("bilevelbench")]
    per_rank = 500000000 * 8 / ranks / 2**30
    assert ours and all(
        line.startswith("bilevelbench: out of memory on rank ") and f"allocating {per_rank:.2f} GiB"
        in line and "while building problem quadratic (-problem_ny 500000000)" in line
        for line in ours), result.stderr
    if ranks == 1:  # alone it ends normally: nothing but its line
        assert result.stderr.strip().splitlines() == ours
    assert not out.exists()
