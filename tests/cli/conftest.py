"""Fixtures of the end-to-end CLI tests: the executable (from $BILEVELBENCH, set by ctest) and a
runner that launches it under mpiexec with N ranks."""
import os
import pathlib
import re
import subprocess

import h5py
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
}


@pytest.fixture(scope="session")
def exe():
    path = os.environ.get("BILEVELBENCH", str(REPO / "build" / "bilevelbench"))
    if not os.path.exists(path):
        pytest.fail(f"bilevelbench not built at {path}; build first or set BILEVELBENCH")
    return path


@pytest.fixture
def run(exe, tmp_path):
    """run(*args, ranks=1, timeout=120) -> CompletedProcess, in a temporary working directory."""

    def _run(*args, ranks=1, timeout=120, cwd=None):
        # One rank runs as an MPI singleton, exactly what a user typing the command sees;
        # mpiexec adds its own report of a non-zero exit to stderr.
        launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
        command = [*launcher, exe, *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd or tmp_path, env={**os.environ, **MPI_ENV})

    return _run


def status_of(path):
    """The status attribute of a result file, or None if there is no readable file."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            value = f.attrs.get("status")
            return value.decode() if isinstance(value, bytes) else value
    except OSError:
        return None


def trace(path, group="/"):
    with h5py.File(path, "r", locking=False) as f:
        return {name: f[group]["trace"][name][()] for name in f[group]["trace"]}


def compatibility_matrix(run):
    """(algorithms, {problem: (marks, structure)}) parsed from -list's compatibility matrix."""
    out = run("-list").stdout
    lines = out[out.index("Compatibility"):].splitlines()
    legend = lines[-1]
    algorithms = [name for _, name in re.findall(r"(\d+) ([a-z_]+)", legend)]
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
