"""Fixtures of the end-to-end CLI tests: the executable (from $BILEVELBENCH, set by ctest), a
runner that launches it under mpiexec with N ranks, and a check after every test that no result
file the test produced calls a run `valid` over an inner solve that missed its tolerance."""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
}


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


# The tests compare numbers bit for bit with stored references (the quick suite,
# docs/compatibility.md), and OpenBLAS's kernels for a CPU differ in their last bits (a chaotic
# trace, BOME on toy_sc, by 2e-4): every run of the tests uses the same kernels on every CPU
# that has them, whatever OpenBLAS or the executable would pick. test_blas_kernels.py removes
# this to test that choice.
if {"avx2", "fma"} <= cpu_flags():
    MPI_ENV["OPENBLAS_CORETYPE"] = "Haswell"


@pytest.fixture(scope="session")
def exe():
    # Absolute, since the runs start in their own temporary directories.
    path = os.path.abspath(os.environ.get("BILEVELBENCH", str(REPO / "build" / "bilevelbench")))
    if not os.path.exists(path):
        pytest.fail(f"bilevelbench not built at {path}; build first or set BILEVELBENCH")
    return path


@pytest.fixture(scope="session")
def build_dir(exe):
    """The build directory of `exe`, for the benchmark scripts' --build-dir."""
    build = pathlib.Path(exe).parent
    if not (build / "benchmarks" / "bilevel_benchmarks").exists():
        pytest.fail(f"bilevel_benchmarks not built in {build}/benchmarks")
    return build


def launch(exe, *args, cwd, ranks=1, timeout=120):
    """Runs the executable with `args` on `ranks` ranks in `cwd` -> CompletedProcess."""
    # One rank runs as an MPI singleton, exactly what a user typing the command sees;
    # mpiexec adds its own report of a non-zero exit to stderr.
    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    command = [*launcher, exe, *map(str, args)]
    # Each launch gets its own OpenMPI session directory: runs started in parallel (the pair
    # matrix's pool) share /tmp/ompi.<host>.<uid>, and one run's clean-up can remove it while
    # another creates its directory inside ("A call to mkdir was unable to create the desired
    # directory", seen once in 300 runs). Short, under /tmp: PMIx puts sockets in it.
    with tempfile.TemporaryDirectory(prefix="bb-ompi-", dir="/tmp") as session:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env={**os.environ, **MPI_ENV,
                                   "OMPI_MCA_orte_tmpdir_base": session})


@pytest.fixture
def run(exe, tmp_path):
    """run(*args, ranks=1, timeout=120) -> CompletedProcess, in a temporary working directory."""

    def _run(*args, ranks=1, timeout=120, cwd=None):
        return launch(exe, *args, cwd=cwd or tmp_path, ranks=ranks, timeout=timeout)

    return _run


# The small finite-sum quadratic of the stochastic solvers' rate and rank tests.
FINITE_SUM_SMALL = ["-problem", "finite_sum_quadratic", "-problem_n_inner", "512",
                    "-problem_n_outer", "128", "-problem_dim_inner", "10", "-problem_dim_outer",
                    "3", "-seed", "2"]


@pytest.fixture
def solver_run(run, tmp_path):
    """solver_run(name, *args, instance=FINITE_SUM_SMALL) -> tmp_path/name.h5, the result of a
    run on `instance` with `args` that must succeed (the rate tests of the stochastic solvers)."""

    def _solver_run(name, *args, instance=FINITE_SUM_SMALL):
        path = tmp_path / f"{name}.h5"
        # Each run computes for seconds; the timeout is for a loaded machine.
        result = run(*instance, *args, "-output", path, timeout=600)
        assert result.returncode == 0, result.stderr
        return path

    return _solver_run


def rates_fit(path, *options):
    """`bba rates --json` on the squared hypergradient norm of one result file -> its fit."""
    result = subprocess.run(
        [sys.executable, str(REPO / "analysis" / "bba"), "rates", str(path), "--metric",
         "hypergrad_norm", "--square", "--json", *options],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (one,) = json.loads(result.stdout)["fits"]
    return one


# What h5py raises when a test reads a file that a run is writing, caught between two of its
# flushes: objects missing for a moment (KeyError), or metadata half written (OSError, or
# RuntimeError for an address past the end of the file). "Not readable yet", not a failure.
TORN_READ = (OSError, KeyError, RuntimeError)


def status_of(path):
    """The status attribute of a result file, or None if there is no readable file yet (a run
    is writing it: TORN_READ)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            value = f.attrs.get("status")
            return value.decode() if isinstance(value, bytes) else value
    except TORN_READ:
        return None


def trace(path, group="/"):
    with h5py.File(path, "r", locking=False) as f:
        return {name: f[group]["trace"][name][()] for name in f[group]["trace"]}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _runs_in(f):
    """The run groups of an open result file: the root of a single run, each group of a suite."""
    groups = [f] + [f[name] for name in f if isinstance(f[name], h5py.Group)]
    return [group for group in groups if "status" in group.attrs]


def untrustworthy_successes(path):
    """What contradicts a run's verdict in the result file at `path`: a completed or converged
    run without a `validity`, or a `valid` one whose trace records an inner solve that missed its
    tolerance (a `<solver>_converged` entry or `inner_ok` of 0). NaN in those columns is a row
    where the solver did not run (reporting-only solves between -report_every rows)."""
    problems = []
    with h5py.File(path, "r", locking=False) as f:
        for group in _runs_in(f):
            where = f"{path.name}:{group.name}"
            status, validity = _text(group.attrs["status"]), group.attrs.get("validity")
            if status in ("completed", "converged") and validity is None:
                problems.append(f"{where}: status {status} without a validity attribute")
            if validity is None or not _text(validity).startswith("valid") or "trace" not in group:
                continue
            columns = [name for name in group["trace"]
                       if name == "inner_ok" or name.endswith("_converged")]
            for name in columns:
                values = group["trace"][name][()]
                failed = np.flatnonzero(values[~np.isnan(values)] != 1)
                if failed.size:
                    problems.append(f"{where}: validity 'valid' but {name} is not 1 in "
                                    f"{failed.size} of {values.size} rows")
    return problems


@pytest.fixture(autouse=True)
def no_failed_inner_solve_passes_as_valid(tmp_path):
    """After every test: no result file it wrote says `valid` over a failed inner solve."""
    yield
    problems = []
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        if h5py.is_hdf5(path):
            try:
                problems += untrustworthy_successes(path)
            except OSError:  # a file a test truncated or left half-written on purpose
                continue
    assert not problems, "\n".join(problems)


def compatibility_matrix(run):
    """(algorithms, {problem: (marks, structure)}) parsed from -list's compatibility matrix."""
    out = run("-list").stdout
    lines = out[out.index("Compatibility"):].splitlines()
    legend = lines[-1]
    algorithms = [name for _, name in re.findall(r"(\d+) ([a-z][a-z_0-9]*)", legend)]
    rows = {}
    for line in lines[2:-1]:
        parts = line.split()
        rows[parts[0]] = (parts[1:1 + len(algorithms)], " ".join(parts[1 + len(algorithms):]))
    return algorithms, rows


def rank_pids(launcher_pid, exe):
    """The bilevelbench processes below mpiexec (its children, or theirs under a daemon)."""
    table = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True,
                           text=True).stdout.splitlines()
    rows = [line.split(None, 2) for line in table]
    below, found = {launcher_pid}, []
    for _ in range(3):  # mpiexec -> (orted ->) ranks
        for pid, ppid, args in (r for r in rows if len(r) == 3):
            if int(ppid) in below and int(pid) not in below:
                below.add(int(pid))
                if args.split()[0] == str(exe) or args.startswith(str(exe) + " "):
                    found.append(int(pid))
    return sorted(set(found))
