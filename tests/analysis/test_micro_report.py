"""benchmarks/micro-report: each benchmark's times are read in the unit its JSON states, so a
kernel reported in microseconds is compared with its bounds in the same unit as the others."""

import json
import subprocess
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "benchmarks" / "micro-report"
CONTEXT = {"nranks": 1, "load_average": "0 0 0", "stream_triad_bytes_per_second": 1e10,
           "dgemm_flops_per_second": 1e10, "stream_triad_bytes_per_cpu_second": 1e10,
           "dgemm_flops_per_cpu_second": 1e10}


def row(name, time, unit):
    # 1e7 bytes at 1e10 B/s (1 ms) and 1e6 flops at 1e10 flop/s (0.1 ms): a one-pass bound of
    # 1 ms, whatever unit the kernel's time is in.
    return {"run_name": f"{name}/iterations:10/manual_time", "run_type": "iteration",
            "real_time": time, "time_unit": unit, "bytes": 1e7, "flops": 1e6,
            "cpu_bound_ratio": 2.0}


def test_times_in_microseconds_are_converted(tmp_path):
    report = {"context": CONTEXT,
              "benchmarks": [row("in_ms", 2.0, "ms"), row("in_us", 2000.0, "us")]}
    (tmp_path / "np1.json").write_text(json.dumps(report))
    out = subprocess.run([str(REPORT), str(tmp_path)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    lines = {line.split("|")[1].strip(): line for line in out.splitlines()
             if line.startswith("| `")}
    for name in ("`in_ms`", "`in_us`"):
        assert "| **2.00** |" in lines[name], lines[name]


def test_softmax_oracles_against_the_skinny_blas_rate(tmp_path):
    # The skinny product: 1e6 flops in 4 ms (0.25 GFLOP/s); the oracle does 2e6 flops in 2 ms,
    # so its skinny bound is 8 ms and its ratio 0.25. Other kernels are not in that table.
    skinny = dict(row("logreg_hyper/features_matmatmult", 4.0, "ms"), flops=1e6)
    oracle = dict(row("logreg_hyper/lower_gradient", 2.0, "ms"), flops=2e6)
    report = {"context": CONTEXT, "benchmarks": [skinny, oracle, row("dgemm", 1.0, "ms")]}
    (tmp_path / "np1.json").write_text(json.dumps(report))
    out = subprocess.run([str(REPORT), str(tmp_path)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    skinny_rows = out.split("Against the skinny BLAS product")[1].splitlines()
    rows = [line for line in skinny_rows if line.startswith("| `")]
    assert rows == ["| `logreg_hyper/lower_gradient` | 1 | 0.2 | 8.00 | 0.25 |"], rows


def test_several_processes_give_medians_of_their_own_figures(tmp_path):
    # Three processes of 1 rank (np1.json, np1.p2.json, np1.p3.json) whose kernel took 2, 4 and
    # 3 ms against bounds of 1, 0.5 and 2 ms (each process measured its own bandwidth): each is
    # held to its own bound (ratios 2, 8, 1.5) and the row gives their median, 2, and range. The
    # pooled figures would say 3 (median time 3 ms over median bound 1 ms).
    fast = dict(CONTEXT, stream_triad_bytes_per_second=2e10)
    slow = dict(CONTEXT, stream_triad_bytes_per_second=5e9)
    for stem, context, time in (("np1", CONTEXT, 2.0), ("np1.p2", fast, 4.0),
                                ("np1.p3", slow, 3.0)):
        report = {"context": context, "benchmarks": [row("kernel", time, "ms")]}
        (tmp_path / f"{stem}.json").write_text(json.dumps(report))
    two_ranks = {"context": dict(CONTEXT, nranks=2), "benchmarks": [row("kernel", 1.5, "ms")]}
    (tmp_path / "np2.json").write_text(json.dumps(two_ranks))
    out = subprocess.run([str(REPORT), str(tmp_path)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("| `kernel`")]
    assert rows[0].startswith("| `kernel` | 1 | 3.00 (2.00–4.00) |"), rows
    assert "| **2.00** (1.50–8.00) |" in rows[0], rows
    assert rows[1] == "| `kernel` | 2 | 1.50 (1.50–1.50) | 1.00 | 0.10 | 1.50 | 15.00 | **1.50** | 2.00 |"
    assert "Processes per rank count: 3 at 1, 1 at 2" in out


def test_a_kernel_without_flops_has_no_dgemm_bound(tmp_path):
    # An extraction moves bytes only: its row gives the STREAM bound and dashes for dgemm's
    # (flops / rate would be 0 ms, and time / 0 no ratio at all).
    report = {"context": CONTEXT, "benchmarks": [dict(row("free_set/copy", 2.0, "ms"), flops=0)]}
    (tmp_path / "np1.json").write_text(json.dumps(report))
    out = subprocess.run([str(REPORT), str(tmp_path)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("| `free_set/copy`"))
    assert line == "| `free_set/copy` | 1 | 2.00 (2.00–2.00) | 1.00 | — | 2.00 | — | **2.00** | 2.00 |"
