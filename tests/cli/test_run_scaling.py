"""benchmarks/run-scaling: one command gives the scaling table with the bandwidth allowance
measured by the triad of the same run, and rewrites only its docs section."""
import json
import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "run-scaling"

CAMPAIGN = """
[campaign]
name = "tiny-scaling"
title = "Tiny scaling"

[defaults]
ranks = [1, 2]
repetitions = 1

[[study]]
name = "quadratic-strong"
problem = "quadratic"
algorithm = "aid"
budget = { iterations = 3 }
options = { problem_ny = 40000 }

[[study]]
name = "quadratic-weak"
problem = "quadratic"
algorithm = "aid"
budget = { iterations = 3 }
options = { problem_ny = 20000 }
weak_scale = ["problem_ny"]
"""


def scaling(*args, build_dir, timeout=600):
    return subprocess.run([str(SCRIPT), "--build-dir", str(build_dir), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def median_triad(path):
    return next(b["bytes_per_second"] for b in json.loads(path.read_text())["benchmarks"]
                if b.get("aggregate_name") == "median")


def test_table_with_the_triad_of_the_same_run(build_dir, tmp_path):
    campaign = tmp_path / "tiny.toml"
    campaign.write_text(CAMPAIGN)
    docs = tmp_path / "page.md"
    docs.write_text("before\n<!-- scaling-results:begin -->\nold\n<!-- scaling-results:end -->\n"
                    "after\n")
    out = tmp_path / "out"
    done = scaling("--campaign", campaign, "--out", out, "--triad-repetitions", 2, "--docs", docs,
                   build_dir=build_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| quadratic / aid"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "ny = 40000"
    t1, t2, speedup, of_allowed, half, efficiency, weak_of_allowed = map(float, cells[2:])
    assert speedup == pytest.approx(t1 / t2, rel=2e-2)
    assert efficiency == pytest.approx(half / t2, rel=2e-2)
    # The allowance comes from the four triad measurements in the run's directory.
    b1 = min(median_triad(out / f"triad_np1_{when}.json") for when in ("before", "after"))
    b2 = min(median_triad(out / f"triad_np2_{when}.json") for when in ("before", "after"))
    allowed = min(2.0, b2 / b1)
    assert of_allowed == pytest.approx(speedup / allowed, abs=0.011)
    assert weak_of_allowed == pytest.approx(efficiency / (allowed / 2), abs=0.011)
    page = docs.read_text()
    assert page.startswith("before\n<!-- scaling-results:begin -->\nTiny scaling:")
    assert "old" not in page and page.endswith("<!-- scaling-results:end -->\nafter\n")
    assert (out / "scaling.md").read_text() in page
    # --report makes the same table from the directory alone, measuring nothing.
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "scaling.md"}
    again = scaling("--report", out, build_dir=build_dir, timeout=60)
    assert again.returncode == 0, again.stderr
    assert again.stdout == done.stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "scaling.md"} == stamps
    # The verdict on the machine's quiet follows the triad's drift during the campaign: a copy of
    # the run whose 2-rank triad lost 30 % by the end is reported not quiet.
    assert "Quiet: the triad drifted" in done.stdout or "**Not quiet**" in done.stdout
    noisy = tmp_path / "noisy"
    shutil.copytree(out, noisy)
    after = noisy / "triad_np2_after.json"
    data = json.loads(after.read_text())
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            b["bytes_per_second"] = 0.7 * median_triad(out / "triad_np2_before.json")
    after.write_text(json.dumps(data))
    flagged = scaling("--report", noisy, build_dir=build_dir, timeout=60)
    assert flagged.returncode == 0, flagged.stderr
    assert "**Not quiet**: the triad at 2 ranks drifted 30 %" in flagged.stdout
    assert "not quiet" in flagged.stderr


def test_an_existing_output_directory_is_refused(build_dir, tmp_path):
    done = scaling("--out", tmp_path, build_dir=build_dir, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "exists" in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written into it


def test_a_bad_docs_page_is_refused_before_measuring(build_dir, tmp_path):
    docs = tmp_path / "page.md"
    docs.write_text("<!-- scaling-results:begin -->\nno end marker\n")
    out = tmp_path / "out"
    done = scaling("--out", out, "--docs", docs, build_dir=build_dir, timeout=60)
    assert done.returncode != 0
    assert "scaling-results:end" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing measured, nothing written
