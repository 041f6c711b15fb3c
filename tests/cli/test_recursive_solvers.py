"""The recursive variance-reduced stochastic solvers on the finite-sum quadratic, against their
papers' results as `bba rates` fits them: SRBA's ||grad Phi||^2 converges linearly at constant
steps; MRBO's and SUSTAIN's averaged ||grad Phi||^2 decays at least as fast as their theorems'
K^(-2/3) with steps ~ k^(-1/3) and momentum ~ k^(-2/3); VRBO's at least as fast as its theorem's
1/K at constant steps. Their rank agreement is in test_stochastic_solvers.py."""
import pytest

from conftest import trace
from test_stochastic_solvers import SMALL, fit

# A Neumann series accurate enough that its truncation bias (1 - eta mu)^(Q + 1) = 0.9^41 ~ 1e-2
# of the adjoint stays below what the rates are fitted on: eta = 1 / L_g.
SERIES = ["-alg_neumann_step", "1", "-alg_neumann_terms", "40"]


def run_to(run, path, *args):
    # Each run computes for well under a second; the timeout is for a loaded machine.
    result = run(*SMALL, *args, "-output", path, timeout=600)
    assert result.returncode == 0, result.stderr
    return path


def test_srba_converges_linearly_at_constant_steps(run, tmp_path):
    path = run_to(run, tmp_path / "srba.h5", "-algorithm", "srba", "-outer_iters", "1000")
    line = fit(path, "--loglinear", "--range", "100", "1000")
    print(f"srba: ln ||grad Phi||^2 slope {line['slope']:.4f} per iteration, R^2 {line['r2']:.4f}")
    assert line["slope"] < -0.02 and line["r2"] > 0.95, line
    norms = trace(path)["hypergrad_norm"]
    assert norms[-1] < 1e-8 * norms[0]


@pytest.mark.parametrize("algorithm", ["mrbo", "sustain"])
def test_storm_averaged_hypergradient_decays_as_the_theorem(run, tmp_path, algorithm):
    path = run_to(run, tmp_path / f"{algorithm}.h5", "-algorithm", algorithm, "-outer_iters",
                  "1000", *SERIES)
    line = fit(path, "--running-average", "--range", "100", "1000", "--predict", "-0.6667")
    print(f"{algorithm}: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']})")
    assert line["verdict"] != "slower", line


def test_vrbo_averaged_hypergradient_decays_as_1_over_k(run, tmp_path):
    path = run_to(run, tmp_path / "vrbo.h5", "-algorithm", "vrbo", "-outer_iters", "300",
                  "-alg_period_frac", "1", *SERIES)
    line = fit(path, "--running-average", "--range", "30", "300", "--predict", "-1")
    print(f"vrbo: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']})")
    assert line["verdict"] != "slower", line
