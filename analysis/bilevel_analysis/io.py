"""Reading bilevelbench HDF5 result files (the contract in docs/result-format.md).

A *run* is either the root of a file or one group of a suite file (one group per run, the
same layout below it). Every subcommand goes through :func:`load_runs`, so the rules for
finding runs, decoding strings and reporting bad input live in one place.
"""

from __future__ import annotations

import math
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from .common import AnalysisError

#: format_version values this reader understands; newer files are read with a warning.
SUPPORTED_FORMAT_VERSIONS = {1, 2, 3}

#: The PETSc log stage of the driver's timed steps (format 2); reporting and setup are apart.
ITERATION_STAGE = "BBIterations"

#: Trace datasets the contract guarantees in every run.
REQUIRED_TRACE = ("iteration", "time", "upper_objective", "hypergrad_norm", "lower_residual")

#: Options that identify an output location or a repetition, not a benchmark.
NON_KEY_OPTIONS = ("-output", "-seed")

HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")


def decode(value):
    """Turn an HDF5 attribute/dataset value into a plain Python value.

    h5py returns strings as ``str``, ``bytes`` or ``numpy.bytes_`` depending on how the
    C++ writer stored them (variable vs fixed length), and scalars as numpy types or
    1-element arrays; callers should never have to care.
    """
    if isinstance(value, np.ndarray):
        if value.shape in ((), (1,)):
            return decode(value.reshape(-1)[0])
        return [decode(v) for v in value]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, np.generic):
        return value.item()
    return value


def parse_options(options: str) -> list[tuple[str, str | None]]:
    """Split a PETSc-style options string into ``(name, value)`` pairs, in order.

    A token is an option name when it starts with '-' followed by a letter or '_', so
    negative numbers such as ``-1e-3`` are values, not names. Flags without a value get
    ``None``.
    """
    try:
        tokens = shlex.split(options)
    except ValueError:  # unbalanced quotes: fall back to whitespace splitting
        tokens = options.split()

    def is_name(tok: str) -> bool:
        return len(tok) > 1 and tok[0] == "-" and (tok[1].isalpha() or tok[1] == "_")

    pairs: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if is_name(tok):
            if i + 1 < len(tokens) and not is_name(tokens[i + 1]):
                pairs.append((tok, tokens[i + 1]))
                i += 2
            else:
                pairs.append((tok, None))
                i += 1
        else:  # stray value: keep it so it still distinguishes benchmark keys
            pairs.append(("", tok))
            i += 1
    return pairs


@dataclass(frozen=True)
class TimingEvent:
    """Totals of one PETSc log event over the run (time is the max over ranks)."""

    count: int
    time: float
    flops: float


@dataclass(frozen=True)
class CollectiveTally:
    """The suite's own collectives of one kind in one stage (format 3's /communication):
    calls, and bytes moved in total (each call's reduced or whole gathered vector)."""

    calls: int
    bytes: float


@dataclass
class Run:
    """One experiment read from a result file; traces are loaded eagerly (they are small)."""

    path: Path
    group: str
    attrs: dict = field(default_factory=dict)
    trace: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)  #: the timed steps' events (see _read_run)
    timing_stages: dict = field(default_factory=dict)  #: {stage: {event: TimingEvent}}
    #: {stage: {"allreduce" | "gather": CollectiveTally}}; None before format 3
    communication: dict | None = None
    #: attributes of /validation (reference, verdict, error, tolerance); empty without -validate
    validation: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Short unique name: the file name, plus the group inside suite files."""
        return self.path.name if self.group == "/" else f"{self.path.name}:{self.group}"

    def attr(self, name: str, default=None):
        return self.attrs.get(name, default)

    @property
    def options(self) -> list[tuple[str, str | None]]:
        return parse_options(str(self.attrs.get("options", "")))

    def metric(self, name: str) -> np.ndarray:
        """The trace of ``name``; a missing metric is an input error naming what exists."""
        if name not in self.trace:
            have = ", ".join(sorted(self.trace)) or "none"
            raise AnalysisError(f"{self.label}: no trace metric '{name}' (available: {have})")
        return self.trace[name]

    @property
    def n_iterations(self) -> int:
        """Outer iterations recorded: the contract writes one trace row per iteration."""
        return len(self.metric("time"))

    def final(self, name: str) -> float:
        """Last recorded value of a metric, or NaN when absent or empty (for reports)."""
        values = self.trace.get(name)
        return float(values[-1]) if values is not None and len(values) else math.nan

    def time_per_iteration(self, event: str | None = None) -> float:
        """Seconds per outer iteration: total run time, or one timing event's total time,
        divided by the number of iterations (so both are comparable across runs of
        different length)."""
        n = self.n_iterations
        if n == 0:
            raise AnalysisError(f"{self.label}: empty trace, no iterations recorded")
        if event is None:
            total = float(self.metric("time")[-1])
        else:
            if event not in self.timing:
                have = ", ".join(sorted(self.timing)) or "none"
                raise AnalysisError(f"{self.label}: no timing event '{event}' (available: {have})")
            total = self.timing[event].time
        return total / n

    def param(self, name: str) -> float:
        """A numeric run parameter: a file attribute ``name``, else option ``-name``.

        This is how sweeps over T, delta, nranks… are put on an x-axis without a
        dedicated attribute for each (e.g. ``alg_inner_iters`` reads
        ``-alg_inner_iters 20`` from the options string).
        """
        key = name.lstrip("-")
        if key in self.attrs:
            raw = self.attrs[key]
            where = f"attribute '{key}'"
        else:
            found = [v for n, v in self.options if n == "-" + key]
            if not found:
                raise AnalysisError(
                    f"{self.label}: no attribute '{key}' and no option '-{key}' in options "
                    f"'{self.attrs.get('options', '')}'")
            raw = found[-1]  # PETSc: the last occurrence wins
            where = f"option '-{key}'"
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise AnalysisError(f"{self.label}: {where} = {raw!r} is not a number") from None

    def benchmark_key(self) -> tuple:
        """What makes two runs repetitions of the same benchmark: problem, algorithm and
        the options other than output location and seed (order-independent, last value
        of a repeated option wins, as in PETSc)."""
        opts = {n: v for n, v in self.options if n not in NON_KEY_OPTIONS}
        return (str(self.attrs.get("problem", "")), str(self.attrs.get("algorithm", "")),
                tuple(sorted((n, v or "") for n, v in opts.items())))


def key_label(key: tuple) -> str:
    """Human-readable form of :meth:`Run.benchmark_key`."""
    problem, algorithm, opts = key[:3]
    # -problem/-algorithm repeat the first two fields; leave them out of the display.
    opt_str = " ".join(f"{n} {v}".strip() for n, v in opts if n not in ("-problem", "-algorithm"))
    return f"{problem}/{algorithm}" + (f" [{opt_str}]" if opt_str else "")


def _is_run(group) -> bool:
    return "trace" in group or "problem" in group.attrs


def _read_timing(t) -> dict:
    """{stage: {event name: TimingEvent}} from the parallel datasets stage/event/count/time/
    flops; format 1 files have no stage column and read as one stage, ``None``."""
    if "event" not in t:
        return {}
    names = [str(decode(n)).strip() for n in np.asarray(t["event"][()]).reshape(-1)]
    stages = ([str(decode(n)).strip() for n in np.asarray(t["stage"][()]).reshape(-1)]
              if "stage" in t else [None] * len(names))

    def column(name):  # a missing column reads as zeros rather than failing the run
        return np.asarray(t[name][()]).reshape(-1) if name in t else np.zeros(len(names))

    by_stage: dict = {}
    for stage, name, c, sec, fl in zip(stages, names, column("count"), column("time"),
                                       column("flops")):
        by_stage.setdefault(stage, {})[name] = TimingEvent(int(c), float(sec), float(fl))
    return by_stage


def _read_communication(c) -> dict:
    """{stage: {collective: CollectiveTally}} from /communication (format 3)."""
    if "stage" not in c:
        return {}
    stages = [str(decode(n)).strip() for n in np.asarray(c["stage"][()]).reshape(-1)]
    kinds = [str(decode(n)).strip() for n in np.asarray(c["collective"][()]).reshape(-1)]
    out: dict = {}
    for stage, kind, calls, nbytes in zip(stages, kinds, np.asarray(c["calls"][()]).reshape(-1),
                                          np.asarray(c["bytes"][()]).reshape(-1)):
        out.setdefault(stage, {})[kind] = CollectiveTally(int(calls), float(nbytes))
    return out


def _read_run(path: Path, group) -> Run:
    attrs = {k: decode(v) for k, v in group.attrs.items()}
    version = attrs.get("format_version")
    if version is not None and version not in SUPPORTED_FORMAT_VERSIONS:
        print(f"bba: warning: {path}:{group.name} has format_version {version}; "
              f"this reader knows {sorted(SUPPORTED_FORMAT_VERSIONS)}", file=sys.stderr)
    trace = {}
    if "trace" in group:
        for name, ds in group["trace"].items():
            if hasattr(ds, "shape") and len(ds.shape) == 1:
                trace[name] = np.asarray(ds[()], dtype=np.float64)
    stages = _read_timing(group["timing"]) if "timing" in group else {}
    # The algorithm's own cost: the timed steps' stage when the file separates stages (format
    # 2), else everything the run logged (format 1, reporting included).
    timing = stages.get(ITERATION_STAGE, stages.get(None, {}))
    communication = (_read_communication(group["communication"])
                     if "communication" in group else None)
    validation = ({k: decode(v) for k, v in group["validation"].attrs.items()}
                  if "validation" in group else {})
    return Run(path=path, group=group.name, attrs=attrs, trace=trace, timing=timing,
               timing_stages=stages, communication=communication, validation=validation)


def read_file(path: Path) -> list[Run]:
    """All runs in one HDF5 file: the root if it is a run, else each run group."""
    import h5py

    try:
        # locking=False: a running job's writer holds the file lock, and reports on a
        # job in progress (its periodically flushed trace) are a use case, not an error.
        f = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise AnalysisError(f"cannot read HDF5 file {path}: {exc}") from None
    with f:
        if _is_run(f):
            return [_read_run(path, f)]
        runs = [_read_run(path, f[name]) for name in sorted(f)
                if isinstance(f[name], h5py.Group) and _is_run(f[name])]
    if not runs:
        raise AnalysisError(f"{path}: no run found (neither /trace nor run groups)")
    return runs


def result_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively, sorted) into their HDF5 files; check existence."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix.lower() in HDF5_SUFFIXES)
            if not found:
                raise AnalysisError(f"{p}: directory contains no HDF5 result files (*.h5)")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise AnalysisError(f"{p}: no such file or directory")
    return files


def load_runs(paths: Iterable[str | Path]) -> list[Run]:
    """Every run in the given files and directories, in a stable (sorted) order."""
    runs: list[Run] = []
    for f in result_files(paths):
        runs += read_file(f)
    if not runs:
        raise AnalysisError("no result files given")
    return runs
