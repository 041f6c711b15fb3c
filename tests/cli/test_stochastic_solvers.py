"""The stochastic solvers on the finite-sum quadratic: their rates as `bba rates` fits them (SABA
converges linearly at constant steps; SOBA's averaged ||grad Phi||^2 decays at least as fast as
its theorem's K^(-2/5) with the theorem's decreasing steps, and stalls with constant ones), and
their traces at 1, 2 and 4 ranks agree to 1e-10 (each rank evaluates the batch's samples it owns;
only the order of the reduction changes)."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import REPO, launch, trace

SMALL = ["-problem", "finite_sum_quadratic", "-problem_n_inner", "512", "-problem_n_outer",
         "128", "-problem_dim_inner", "10", "-problem_dim_outer", "3", "-seed", "2"]
ALGORITHMS = ("soba", "saba", "amigo", "f2sa", "fsla", "stocbio", "ttsa", "bsa", "srba", "mrbo",
              "vrbo", "sustain")
# The decreasing steps of SOBA's convergence theorem: rho_k ~ k^(-2/5), gamma_k ~ k^(-3/5).
THEOREM_STEPS = ["-alg_inner_decay", "0.4", "-alg_outer_decay", "0.6"]


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def fit(path, *options):
    """`bba rates --json` on the squared hypergradient norm of one result file -> its fit."""
    result = subprocess.run(
        [sys.executable, str(REPO / "analysis" / "bba"), "rates", str(path), "--metric",
         "hypergrad_norm", "--square", "--json", *options],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (one,) = json.loads(result.stdout)["fits"]
    return one


def run_to(run, path, *args):
    result = run(*SMALL, *args, "-output", path, timeout=120)
    assert result.returncode == 0, result.stderr
    return path


def test_saba_converges_linearly_at_constant_steps(run, tmp_path):
    path = run_to(run, tmp_path / "saba.h5", "-algorithm", "saba", "-outer_iters", "1000")
    line = fit(path, "--loglinear", "--range", "200", "1000")
    print(f"saba: ln ||grad Phi||^2 slope {line['slope']:.4f} per iteration, R^2 {line['r2']:.4f}")
    # A straight line in log scale, down by more than a factor e every 50 iterations.
    assert line["slope"] < -0.02 and line["r2"] > 0.98, line
    norms = trace(path)["hypergrad_norm"]
    assert norms[-1] < 1e-8 * norms[0]


@pytest.mark.parametrize("steps, expected", [(THEOREM_STEPS, "decays"),
                                             (["-alg_inner_decay", "0", "-alg_outer_decay", "0"],
                                              "stalls")])
def test_soba_averaged_hypergradient_decays_with_decreasing_steps(run, tmp_path, steps,
                                                                  expected):
    path = run_to(run, tmp_path / "soba.h5", "-algorithm", "soba", "-outer_iters", "5000",
                  *steps)
    line = fit(path, "--running-average", "--range", "500", "5000", "--predict", "soba")
    print(f"soba {expected}: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} "
          f"({line['verdict']})")
    # Constant steps stop at the noise floor of the minibatches: a 'slower' verdict, which is
    # what the decreasing steps must avoid.
    assert (line["verdict"] != "slower") == (expected == "decays"), line


# The double-loop methods evaluate 2T + 2 batches per iteration: fewer iterations, as many draws.
# The Neumann-series methods reduce once per Hessian product (about 22 reductions an iteration at
# their defaults): fewer iterations cover as many.
# (mrbo, sustain: a Neumann series at two points; vrbo: 11 inner updates per step.)
RANK_ITERATIONS = {"amigo": 20, "f2sa": 20, "stocbio": 20, "ttsa": 40, "bsa": 20, "mrbo": 20,
                   "sustain": 20, "vrbo": 4}


def test_traces_agree_at_1_2_and_4_ranks(exe, tmp_path):
    # Every solver as a line of one suite, one launch per rank count.
    suite = tmp_path / "stochastic.suite"
    suite.write_text("".join(f"{' '.join(SMALL)} -algorithm {algorithm} "
                             f"-outer_iters {RANK_ITERATIONS.get(algorithm, 200)} "
                             "-validate false\n" for algorithm in ALGORITHMS))
    traces = {}
    for ranks in (1, 2, 4):
        path = tmp_path / f"suite{ranks}.h5"
        result = launch(exe, "-suite", suite, "-output", path, cwd=tmp_path, ranks=ranks,
                        timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        with h5py.File(path, "r") as f:
            groups = {_text(f[g].attrs["algorithm"]): g for g in f}
        traces[ranks] = {algorithm: trace(path, groups[algorithm]) for algorithm in ALGORITHMS}
    for algorithm in ALGORITHMS:
        reference = traces[1][algorithm]
        worst = 0.0
        for ranks in (2, 4):
            for column, want in reference.items():
                if column == "time" or column.endswith("_time"):
                    continue
                got = traces[ranks][algorithm][column]
                scale = np.maximum(np.abs(want), 1e-300)
                worst = max(worst, float(np.max(np.abs(got - want) / scale)))
        print(f"{algorithm}: largest relative difference at 2 and 4 ranks {worst:.1e}")
        assert worst <= 1e-10, algorithm
