"""`bba campaign`: expansion of campaign files, name checks against the binary, and a small
campaign run end to end, stopped in the middle and resumed (needs $BILEVELBENCH)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from bilevel_analysis.campaign import assign_ids, load_campaign, selected
from bilevel_analysis.status import file_status
from bilevel_analysis.common import AnalysisError

HERE = Path(__file__).resolve().parent
TINY = HERE / "data" / "tiny.toml"
BBA = HERE.parents[1] / "analysis" / "bba"
CAMPAIGNS = HERE.parents[1] / "benchmarks" / "campaigns"
BINARY = os.environ.get("BILEVELBENCH")
needs_binary = pytest.mark.skipif(not BINARY or not os.access(BINARY, os.X_OK),
                                  reason="needs $BILEVELBENCH (set by ctest)")


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_study_is_the_product_of_its_lists(tmp_path):
    c = load_campaign(write(tmp_path, """
[defaults]
seeds = [1, 2]
budget = { iterations = 10, time = 5 }
[[study]]
name = "s"
problem = "quadratic"
algorithms = ["aid", "itd"]
grid = { alg_step = [0.1, 0.01] }
ranks = [1, 2]
repetitions = 2
algorithm_options = { itd = { alg_inner_iters = 7 } }
"""))
    assert len(c.runs) == 2 * 2 * 2 * 2 * 2
    itd = next(r for r in c.runs if r.algorithm == "itd")
    assert itd.words[:6] == ["-problem", "quadratic", "-algorithm", "itd", "-seed", "1"]
    assert ["-outer_iters", "10"] == itd.words[6:8] and "-time_budget" in itd.words
    assert itd.words[itd.words.index("-alg_inner_iters") + 1] == "7"
    assert itd.variant == {"alg_step": 0.1}
    assign_ids(c, "build-a")
    assert len({r.run_id for r in c.runs}) == len(c.runs)  # repetitions are distinct runs
    ids_a = [r.run_id for r in c.runs]
    assign_ids(c, "build-b")  # another binary: no result is reused
    assert not set(ids_a) & {r.run_id for r in c.runs}


def test_weak_scaling_multiplies_the_per_rank_size(tmp_path):
    c = load_campaign(write(tmp_path, """
[[study]]
name = "weak"
problem = "quadratic"
algorithm = "aid"
ranks = [1, 4]
options = { problem_ny = 1000 }
weak_scale = ["problem_ny"]
"""))
    sizes = [r.words[r.words.index("-problem_ny") + 1] for r in c.runs]
    assert sizes == ["1000", "4000"]


def test_a_run_two_studies_share_keeps_its_name_when_one_study_is_selected(tmp_path):
    """The weak study's 2-rank point is the strong study's 2-rank run: selecting the weak
    study alone (run --study, files --study) must find that run under the strong study's
    file name, not plan it again under another."""
    c = load_campaign(write(tmp_path, """
[defaults]
problem = "quadratic"
algorithm = "aid"
ranks = [1, 2]
[[study]]
name = "strong"
options = { problem_ny = 2000 }
[[study]]
name = "weak"
options = { problem_ny = 1000 }
weak_scale = ["problem_ny"]
"""))
    assign_ids(c, "build")
    weak = selected(c, ["weak"]).runs
    assert [r.name.split("-")[0] for r in weak] == ["weak", "strong"]
    assert weak[1].name == c.runs[1].name


@pytest.mark.parametrize("text, message", [
    ("[[study]]\nname='s'\nalgorithm='aid'\n", "give 'problems'"),
    ("[[study]]\nname='s'\nproblem='p'\nalgorithm='a'\noptions={output='x.h5'}\n",
     "set by the campaign itself"),
    ("[[study]]\nname='s'\nproblem='p'\nalgorithm='a'\nseed=[1]\n", "unknown key 'seed'"),
    ("[campaign]\nname='x'\n", "no [[study]]"),
    ("[[study]\n", "not valid TOML"),
])
def test_bad_campaign_files_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(AnalysisError, match=message.replace("[", r"\[")):
        load_campaign(write(tmp_path, text))


@pytest.mark.parametrize("campaign", sorted(CAMPAIGNS.glob("*.toml")), ids=lambda p: p.stem)
def test_committed_campaigns_expand(campaign):
    c = load_campaign(campaign)
    assign_ids(c, "any")
    assert c.runs


@needs_binary
@pytest.mark.parametrize("line, message", [
    ("problem = 'quadratik'", "problem 'quadratik' is not known to the binary; did you mean "
                              "quadratic"),
    ("problem = 'quadratic'\noptions = { alg_inner_iter = 3 }",
     "option '-alg_inner_iter' is not known to the binary; did you mean -alg_inner_iters"),
    ("problem = 'adversarial_ls'", "the binary refuses aid on adversarial_ls unless "
                                   "allow_weaker_convexity = true"),
])
def test_names_are_checked_against_the_binary_before_anything_runs(tmp_path, bba, line,
                                                                    message):
    path = write(tmp_path, f"[[study]]\nname='s'\nalgorithm='aid'\n{line}\n")
    rc, out, err = bba("campaign", "run", path, "--binary", BINARY, "-o", tmp_path / "out")
    assert rc == 2 and message in err and len(err.splitlines()) == 1
    assert not list((tmp_path / "out").glob("*.h5"))


def rows_flushed(path):
    """Trace rows of a file being written (0 while it is being changed under us)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return len(f["trace/iteration"]) if "trace/iteration" in f else 0
    except (OSError, RuntimeError, KeyError):
        return 0


def campaign(out, *extra):
    return subprocess.Popen([sys.executable, str(BBA), "campaign", "run", str(TINY), "-o",
                             str(out), "--binary", BINARY, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def results(out):
    """{file name: (status, iterations column, final objective)} of a result directory."""
    found = {}
    for path in sorted(Path(out).glob("*.h5")):
        status = file_status(path)
        with h5py.File(path, "r") as f:
            found[path.name] = (status, f["trace/iteration"][()], f["trace/upper_objective"][-1])
    return found


@needs_binary
def test_campaign_stopped_halfway_and_resumed_equals_an_uninterrupted_one(tmp_path):
    whole = campaign(tmp_path / "whole")
    out = tmp_path / "stopped"
    stopped = campaign(out)
    # Stop the campaign while its second run is under way (its file exists and holds rows). A
    # campaign goes seed by seed: aid s0, itd s0, then aid s1.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        second = sorted(out.glob("itd-*-s0-*.h5"))
        if second and rows_flushed(second[0]) > 0:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the second run never started")
    stopped.send_signal(signal.SIGTERM)
    log, _ = stopped.communicate(timeout=60)
    assert stopped.returncode == 3, log
    statuses = sorted(file_status(p) for p in out.glob("*.h5"))
    assert statuses == ["completed", "interrupted"], log  # the third never started

    resumed = campaign(out)
    log, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, log
    assert log.count("resume (interrupted): ") == 1 and log.count("run: ") == 1, log
    whole_log, _ = whole.communicate(timeout=120)
    assert whole.returncode == 0, whole_log

    a, b = results(tmp_path / "whole"), results(out)
    assert sorted(a) == sorted(b) and len(a) == 3
    for name in a:
        assert a[name][0] == b[name][0] == "completed"
        np.testing.assert_array_equal(a[name][1], b[name][1])  # no row lost or repeated
        assert b[name][2] == pytest.approx(a[name][2], rel=1e-12), name

    again = campaign(out)  # everything finished: nothing runs
    log, _ = again.communicate(timeout=60)
    assert again.returncode == 0 and "3 already done" in log and "run: " not in log

    # One study's finished results, for the analysis steps (bba tables, curves, model, ...).
    listed = subprocess.run([sys.executable, str(BBA), "campaign", "files", str(TINY), "-o",
                             str(out), "--binary", BINARY, "--study", "aid"],
                            capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert sorted(Path(p).name for p in listed.stdout.split()) == sorted(
        n for n in b if n.startswith("aid-"))
