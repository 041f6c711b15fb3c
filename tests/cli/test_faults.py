"""Faults a long run meets: a full file system, and a signal in the middle of a long inner solve.
Each must end quickly, collectively, with one line saying what happened and a readable file
holding everything flushed before it."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import MPI_ENV, status_of, trace


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
    "snesvi_obstacle": ["-problem", "obstacle_control", "-problem_grid", "400", "-algorithm",
                        "kkt_vi", "-alg_inner_solver", "snesvi", "-alg_inner_gap_tol", "0",
                        "-alg_snesvi_snes_max_it", "100000000"],
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
