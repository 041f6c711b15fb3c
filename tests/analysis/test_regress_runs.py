"""`bba regress` on real runs of one build (needs $BILEVELBENCH): nothing flagged between two
sets of ten repetitions; an injected 20 % slowdown and an injected change of the final
objective in its 4th significant digit are flagged."""

import json
import os
import shutil
import subprocess

import h5py
import pytest

from bilevel_analysis.campaign import MPI_ENV

BINARY = os.environ.get("BILEVELBENCH")
pytestmark = pytest.mark.skipif(not BINARY or not os.access(BINARY, os.X_OK),
                                reason="needs $BILEVELBENCH (set by ctest)")


REPETITIONS = 20
#: One small benchmark (the quick suite's AID line, longer): about 0.5 s of algorithm time.
#: Not validated: at its converged x (|grad| 1e-15) the check's relative error reads 1.0.
LINE = "-problem quadratic -algorithm aid -outer_iters 600 -problem_ny 2000 -problem_nx 20 " \
       "-alg_step 0.5 -alg_inner_iters 10 -validate false"


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """Two result sets of the same build, ten repetitions each: a suite of twenty identical
    lines (one process start, not twenty), split into alternate repetitions so that a slow
    spell of the machine hits both halves."""
    tmp = tmp_path_factory.mktemp("regress-runs")
    suite = tmp / "same.suite"
    suite.write_text((LINE + "\n") * REPETITIONS)
    res = subprocess.run([BINARY, "-suite", str(suite), "-output", str(tmp / "all.h5")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, **MPI_ENV})
    assert res.returncode == 0, res.stdout + res.stderr
    sides = {"a": tmp / "a", "b": tmp / "b"}
    with h5py.File(tmp / "all.h5", "r") as f:
        for side, d in sides.items():
            d.mkdir()
            with h5py.File(d / "runs.h5", "w") as out:
                for i, name in enumerate(sorted(f)):
                    if (i % 2 == 0) == (side == "a"):
                        f.copy(f[name], out, name)
    return sides


def regress(bba, base, cand):
    rc, out, err = bba("regress", base, cand, "--json")
    assert rc in (0, 1), err
    (c,) = json.loads(out)["comparisons"]
    return rc, c


def edited(src, dst, edit):
    shutil.copytree(src, dst)
    with h5py.File(dst / "runs.h5", "r+") as f:
        for run in f.values():
            edit(run)
    return dst


def test_same_build_flags_nothing(halves, bba):
    rc, c = regress(bba, halves["a"], halves["b"])
    assert (c["n_base"], c["n_cand"]) == (10, 10)
    assert c["verdict"] != "REGRESSION" and c["changed"] == [], c
    assert rc == 0
    assert c["numbers"]["upper_objective"][0] == c["numbers"]["upper_objective"][1]


def test_injected_20_percent_slowdown_is_flagged(halves, bba, tmp_path):
    def slower(f):
        f["trace/time"][...] = f["trace/time"][()] * 1.2

    rc, c = regress(bba, halves["a"], edited(halves["b"], tmp_path / "slow", slower))
    assert rc == 1 and c["verdict"] == "REGRESSION" and c["pvalue"] < 0.05, c
    assert c["changed"] == []  # the numbers did not move


def test_objective_changed_in_4th_significant_digit_is_flagged(halves, bba, tmp_path):
    def nudged(f):
        objective = f["trace/upper_objective"]
        objective[-1] = objective[-1] * (1 + 3e-4)  # 1562.2871 -> 1562.7558

    rc, c = regress(bba, halves["a"], edited(halves["b"], tmp_path / "nudged", nudged))
    assert rc == 1 and c["changed"] == ["upper_objective"], c
    assert c["verdict"] != "REGRESSION"
