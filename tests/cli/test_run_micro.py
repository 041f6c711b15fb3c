"""benchmarks/run-micro --processes: several processes per rank count, files the report merges,
and no file of an earlier run left to be merged with them."""
import json
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "run-micro"


def micro(*args, build_dir):
    return subprocess.run([str(SCRIPT), "--build-dir", str(build_dir), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_processes_write_one_file_each_and_drop_stale_ones(build_dir, tmp_path):
    out = tmp_path / "micro"
    out.mkdir()
    (out / "np1.p3.json").write_text("{}")  # an earlier run's third process
    done = micro("--out", out, "--ranks", "1", "--processes", 2, "--repetitions", 1, "--",
                 "--benchmark_filter=stream_triad", build_dir=build_dir)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["np1.json", "np1.p2.json"]
    for name in ("np1.json", "np1.p2.json"):
        report = json.loads((out / name).read_text())
        assert report["context"]["nranks"] == "1"
        assert any(b["run_name"].startswith("stream_triad") for b in report["benchmarks"])
    table = subprocess.run([str(REPO / "benchmarks" / "micro-report"), str(out)],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Processes per rank count: 2 at 1" in table


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_process_count_is_refused(build_dir, tmp_path, value):
    done = micro("--out", tmp_path / "micro", "--processes", value, build_dir=build_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == f"run-micro: --processes '{value}' is not a positive integer"
    assert not (tmp_path / "micro").exists()
