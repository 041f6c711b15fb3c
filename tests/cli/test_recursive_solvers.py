"""The recursive variance-reduced stochastic solvers on the finite-sum quadratic, against their
papers' results as `bba rates` fits them: MRBO's and SUSTAIN's averaged ||grad Phi||^2 decays at least as fast as their theorems'
K^(-2/3) with steps ~ k^(-1/3) and momentum ~ k^(-2/3); VRBO's at least as fast as its theorem's
1/K at constant steps. SRBA's linear convergence (with SABA's) and their rank agreement are in
test_stochastic_solvers.py."""
import pytest

from conftest import rates_fit

# A Neumann series accurate enough that its truncation bias (1 - eta mu)^(Q + 1) = 0.9^41 ~ 1e-2
# of the adjoint stays below what the rates are fitted on: eta = 1 / L_g.
SERIES = ["-alg_neumann_step", "1", "-alg_neumann_terms", "40"]


@pytest.mark.parametrize("algorithm", ["mrbo", "sustain"])
def test_storm_averaged_hypergradient_decays_as_the_theorem(solver_run, algorithm):
    path = solver_run(algorithm, "-algorithm", algorithm, "-outer_iters", "1000", *SERIES)
    line = rates_fit(path, "--running-average", "--range", "100", "1000", "--predict", "-0.6667")
    print(f"{algorithm}: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']})")
    assert line["verdict"] != "slower", line


def test_vrbo_averaged_hypergradient_decays_as_1_over_k(solver_run):
    path = solver_run("vrbo", "-algorithm", "vrbo", "-outer_iters", "300", "-alg_period_frac", "1",
                      *SERIES)
    line = rates_fit(path, "--running-average", "--range", "30", "300", "--predict", "-1")
    print(f"vrbo: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']})")
    assert line["verdict"] != "slower", line
