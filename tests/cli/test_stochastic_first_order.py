"""AmIGO, F2SA and FSLA on the finite-sum quadratic behave as their analyses say: AmIGO at
constant steps settles at a noise floor of ||grad Phi||^2 proportional to the step; F2SA's
||grad Phi||^2 with its theorem's steps and growing penalty decays at the theorem's K^(-2/7);
FSLA's averaged ||grad Phi||^2 with 1/sqrt(k) steps decays at least as K^(-1/2). Their traces at
1, 2 and 4 ranks are checked with SOBA's and SABA's in test_stochastic_solvers.py."""
import numpy as np

from conftest import rates_fit, trace


def test_amigo_noise_floor_is_proportional_to_the_step(solver_run):
    steps = np.array([0.4, 0.1, 0.025])
    floors = []
    for step in steps:
        path = solver_run(f"amigo{step}", "-algorithm", "amigo", "-outer_iters", "1000",
                          "-alg_step_size", str(step))
        # The floor: the mean over the second half, after the transient (< 200 iterations at the
        # smallest step).
        floors.append(float(np.mean(trace(path)["hypergrad_norm"][500:] ** 2)))
    slope = np.polyfit(np.log(steps), np.log(floors), 1)[0]
    print(f"amigo: floors {floors} at steps {steps}: ln floor / ln step slope {slope:.2f}")
    # Proportional: slope 1. A biased direction (a wrong or missing implicit term) has a floor
    # of its bias that does not shrink with the step: slope near 0.
    assert 0.7 < slope < 1.4


def test_f2sa_decays_at_its_theorem_rate(solver_run):
    path = solver_run("f2sa", "-algorithm", "f2sa", "-outer_iters", "4000")
    line = rates_fit(path, "--range", "100", "4000", "--predict", "-0.2857")
    print(f"f2sa: ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']}), R^2 {line['r2']:.3f}")
    assert line["verdict"] == "reproduced", line


def test_fsla_averaged_hypergradient_decays(solver_run):
    path = solver_run("fsla", "-algorithm", "fsla", "-outer_iters", "4000")
    line = rates_fit(path, "--running-average", "--range", "100", "4000", "--predict", "-0.5")
    print(f"fsla: (1/K) sum ||grad Phi||^2 slope {line['slope']:.3f} ({line['verdict']})")
    assert line["verdict"] != "slower", line
