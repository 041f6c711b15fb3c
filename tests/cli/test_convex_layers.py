"""FFOLayer's general convex layers through qp_layer: -alg_check_oracle kkt puts the exact
gradient of every minibatch (implicit differentiation of the full nonlinear KKT system) beside
the step's own. On ball_layer (a learned ball: the constraint depends on x) ffo, the paper's
ffocp, is off by O(delta): a log-log slope of 1 over two decades; on both instances its cosine
to kkt exceeds 0.999 at the default delta, and ffoqp (exact on the active set) agrees to
round-off."""
import numpy as np
import pytest

from conftest import trace

SMALL = ["-problem_train", "16", "-problem_test", "0", "-algorithm", "qp_layer",
         "-alg_check_oracle", "kkt", "-outer_iters", "3"]


def _check(run, tmp_path, problem, *options):
    out = tmp_path / f"{problem}{'_'.join(options)}.h5"
    result = run("-problem", problem, *SMALL, *options, "-output", out)
    assert result.returncode == 0, result.stderr
    t = trace(out)
    return t["oracle_error"], t["oracle_cosine"]


def test_ffocp_error_is_first_order_in_delta_on_the_learned_ball(run, tmp_path):
    deltas = [1e-1, 1e-2, 1e-3]
    errors = [np.mean(_check(run, tmp_path, "ball_layer", "-alg_oracle", "ffo", "-alg_delta",
                             str(d))[0]) for d in deltas]
    slope = np.polyfit(np.log(deltas), np.log(errors), 1)[0]
    assert abs(slope - 1) <= 0.15, (errors, slope)


@pytest.mark.parametrize("problem", ["ball_layer", "portfolio_layer"])
def test_ffocp_and_ffoqp_agree_with_kkt(run, tmp_path, problem):
    error, cosine = _check(run, tmp_path, problem, "-alg_oracle", "ffo")
    assert np.all(cosine > 0.999) and np.all(error < 1e-3), (error, cosine)
    error, cosine = _check(run, tmp_path, problem, "-alg_oracle", "ffoqp")
    assert np.all(error < 1e-7), error
