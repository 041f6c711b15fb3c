"""Oracle-call accounting (docs/result-format.md, `calls_*`): on the quadratic, the counts of
AID and ITD per outer iteration are the ones their algorithms imply, and only the timed steps
count: the driver's objective and residual on every row, -validate and the setup leave them
unchanged. The same columns at other rank counts and across a restart are compared by
test_runs.py's rank cases and test_restart_exact.py (every non-timing column)."""
import numpy as np

from conftest import trace

QUADRATIC = ["-problem", "quadratic", "-problem_ny", "50"]
ITERS = 4
T = 5  # inner gradient steps per outer iteration


def per_iteration(columns, name):
    """The calls of one kind each outer iteration made (the column is cumulative)."""
    return np.diff(columns[name], prepend=0.0)


def run_counts(run, tmp_path, *args):
    out = tmp_path / "run.h5"
    result = run(*QUADRATIC, *args, "-outer_iters", ITERS, "-alg_inner_iters", T, "-output", out)
    assert result.returncode == 0, result.stderr
    return trace(out)


def test_aid_counts_its_gradient_steps_cg_products_and_one_of_each_other(run, tmp_path):
    t = run_counts(run, tmp_path, "-algorithm", "aid", "-validate", "true")
    ones = np.ones(ITERS)
    # T lower gradients, one grad f at y_T, the CG solve (one inner solve) and one cross product.
    np.testing.assert_array_equal(per_iteration(t, "calls_lower_gradient"), T * ones)
    np.testing.assert_array_equal(per_iteration(t, "calls_upper_gradient"), ones)
    np.testing.assert_array_equal(per_iteration(t, "calls_cross_derivative"), ones)
    np.testing.assert_array_equal(per_iteration(t, "calls_inner_solve"), ones)
    # CG: one Hessian product per iteration, and one for the initial residual of its warm start
    # (none at the first outer iteration, whose start v = 0 PETSc recognises).
    warm = np.r_[0.0, np.ones(ITERS - 1)]
    np.testing.assert_array_equal(per_iteration(t, "calls_hessian_vector"),
                                  t["ksp_iterations"] + warm)
    # A fixed step evaluates no value: the driver's f and residual on every row are reporting.
    np.testing.assert_array_equal(t["calls_function_value"], 0 * ones)
    assert "samples" not in t  # the quadratic is not a finite sum


def test_itd_counts_its_unrolled_steps_once_forward_and_once_backward(run, tmp_path):
    t = run_counts(run, tmp_path, "-algorithm", "itd")
    ones = np.ones(ITERS)
    # Forward: T gradients; reverse sweep: one Hessian and one cross product per step.
    for kind in ("lower_gradient", "hessian_vector", "cross_derivative"):
        np.testing.assert_array_equal(per_iteration(t, f"calls_{kind}"), T * ones, kind)
    np.testing.assert_array_equal(per_iteration(t, "calls_upper_gradient"), ones)
    np.testing.assert_array_equal(t["calls_inner_solve"], 0 * ones)
    np.testing.assert_array_equal(t["calls_function_value"], 0 * ones)


def test_backtracking_counts_its_values_and_t_inner_steps_per_value(run, tmp_path):
    t = run_counts(run, tmp_path, "-algorithm", "aid", "-alg_line_search", "backtracking",
                   "-alg_step", "10")
    values = per_iteration(t, "calls_function_value")
    # Armijo compares Phi at the trial points (backtracks + 1 of them) with Phi(x); each estimate
    # of Phi is f after T inner steps, besides the T steps of the hypergradient.
    np.testing.assert_array_equal(values, t["backtracks"] + 2)
    assert t["backtracks"].sum() > 0
    np.testing.assert_array_equal(per_iteration(t, "calls_lower_gradient"), T * (1 + values))
