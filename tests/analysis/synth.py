"""Writers for synthetic result files that follow the HDF5 contract (DESIGN.md).

Strings are stored the way a C++ writer typically stores them (fixed-length byte
strings), so the tests also cover the bytes-decoding path of the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

BBA = Path(__file__).resolve().parents[2] / "analysis" / "bba"

DEFAULT_ATTRS = dict(format_version=1, suite_version="0.1.0", git_commit="abc123def456",
                     problem="quadratic", algorithm="aid", hostname="node01",
                     status="completed", options="-problem quadratic -algorithm aid",
                     started_utc="2024-01-01T00:00:00Z", finished_utc="2024-01-01T00:01:00Z",
                     nranks=1, seed=0)


def _attr(value):
    return np.bytes_(value.encode()) if isinstance(value, str) else value


def write_run(path, group=None, trace=None, timing=None, n=20, time_per_iter=0.1,
              communication=None, **attrs):
    """Write one run at the file root (group=None) or in a group of a suite file.

    trace: extra/overriding 1-D metrics; the contract's always-present ones default to
    simple decaying sequences of length n with time = time_per_iter * (k + 1).
    timing: {event: (count, time, flops)}.
    communication: {collective: (calls, bytes)} of the timed steps' stage (format 3's
    /communication); None writes no ledger, as format 1 and 2 files have none.
    """
    trace = dict(trace or {})
    n = len(next(iter(trace.values()))) if trace else n
    k = np.arange(n, dtype=float)
    base = dict(iteration=k, time=time_per_iter * (k + 1), upper_objective=1.0 + 1.0 / (k + 1),
                hypergrad_norm=1.0 / (k + 1), lower_residual=0.5 ** k)
    base.update(trace)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "a") as f:
        g = f if group is None else f.create_group(group)
        for key, value in {**DEFAULT_ATTRS, **attrs}.items():
            g.attrs[key] = _attr(value)
        tr = g.create_group("trace")
        for name, values in base.items():
            tr.create_dataset(name, data=np.asarray(values, dtype=np.float64),
                              maxshape=(None,), chunks=True)
        g.create_dataset("x", data=np.zeros(3))
        events = timing or {"MainLoop": (n, time_per_iter * n, 1e6 * n)}
        tg = g.create_group("timing")
        tg.create_dataset("event", data=np.array([e.encode() for e in events], dtype="S32"))
        tg.create_dataset("count", data=np.array([v[0] for v in events.values()], dtype=np.int64))
        tg.create_dataset("time", data=np.array([v[1] for v in events.values()], dtype=np.float64))
        tg.create_dataset("flops", data=np.array([v[2] for v in events.values()], dtype=np.float64))
        if communication is not None:
            cg = g.create_group("communication")
            cg.create_dataset("stage", data=np.array([b"BBIterations"] * len(communication)))
            cg.create_dataset("collective", data=np.array([k.encode() for k in communication]))
            cg.create_dataset("calls", data=np.array([v[0] for v in communication.values()],
                                                     dtype=np.int64))
            cg.create_dataset("bytes", data=np.array([v[1] for v in communication.values()],
                                                     dtype=np.float64))
    return Path(path)


def noisy(values, rel, seed):
    """values * (1 + rel * N(0,1)), deterministic per seed."""
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    return values * (1.0 + rel * rng.standard_normal(values.shape))


def write_gbench(path, samples: dict, host="node01", unit="ns", aggregates=True):
    """Google Benchmark JSON: per-repetition entries plus (misleading) aggregates that a
    correct reader must ignore."""
    benchmarks = []
    for name, times in samples.items():
        for i, t in enumerate(times):
            benchmarks.append(dict(name=name, run_name=name, run_type="iteration",
                                   repetitions=len(times), repetition_index=i, iterations=100,
                                   real_time=t, cpu_time=t, time_unit=unit))
        if aggregates:
            benchmarks.append(dict(name=f"{name}_mean", run_name=name, run_type="aggregate",
                                   aggregate_name="mean", repetitions=len(times),
                                   real_time=1e9, cpu_time=1e9, time_unit=unit))
    Path(path).write_text(json.dumps({"context": {"host_name": host, "num_cpus": 8},
                                      "benchmarks": benchmarks}))
    return Path(path)
