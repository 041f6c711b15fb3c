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
