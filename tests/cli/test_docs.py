"""The docs stand on their own: every trace column a run writes is documented in
docs/result-format.md, and every problem and algorithm of `bilevelbench -list` is in the README.

The columns are collected by running, for 2 outer iterations at small sizes, every algorithm on
the first problem it runs on, every problem with the first algorithm that runs it, and the few
option variants that add columns of their own. Columns named per inner solver
(`<solver>_converged`, `<solver>_iterations`, written by Record::solve) are documented by that
pattern in result-format.md, whose row must name the solver."""
import re

import h5py
import pytest

from conftest import REPO, compatibility_matrix
from test_pair_matrix import SMALL, EXTRA

RESULT_FORMAT = REPO / "docs" / "result-format.md"
README = REPO / "README.md"
SOLVER_COLUMN = re.compile(r"^(?P<solver>[a-z_]+)_(converged|iterations)$")
# Option variants whose columns the default runs do not write (each says which columns).
VARIANTS = [
    ("quadratic", "aid", ["-alg_line_search", "backtracking"]),    # backtracks
    ("affine_vi_box", "itd_vi", ["-alg_check_exact"]),             # hypergrad_error
    ("affine_vi_box", "kkt_vi", ["-alg_inner_solver", "snesvi"]),  # inner_linear_iterations
    # inner_coarse_iterations/_converged, adjoint_residual, free_set_asymmetry
    ("obstacle_control", "kkt_vi", ["-alg_inner_solver", "snesvi", "-alg_check_adjoint"]),
    ("qp_bilevel", "qp_hypergrad", ["-alg_oracle", "ffo"]),        # ffo_inner_*
    ("dfl_qp", "qp_layer", ["-alg_oracle", "ffo"]),                # ffo_inner_failures
    ("quadratic", "pgd_qp", []),  # hypergrad_ksp_*, true_lower_*, true_ksp_* (g strongly convex)
]


def _documented():
    """(names, solvers): the metric names of result-format.md's trace table, and the solver names
    its `<solver>_converged` row lists."""
    text = RESULT_FORMAT.read_text()
    table = text[text.index("## `/trace/<metric>`"):]
    table = table[:table.index("\n## ")]
    names, solvers = set(), set()
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) < 4 or not cells[1].strip().startswith("`"):
            continue
        first = re.findall(r"`([^`]+)`", cells[1])
        if "<solver>_converged" in first:
            solvers.update(re.findall(r"`([a-z_]+)`", "|".join(cells[2:])))
        names.update(first)
    return names, solvers


def _undocumented(columns, names, solvers):
    missing = set()
    for column in columns:
        match = SOLVER_COLUMN.match(column)
        if column in names or (match and match["solver"] in solvers):
            continue
        missing.add(column)
    return missing


def _runs(run):
    algorithms, rows = compatibility_matrix(run)
    runs = []
    for algorithm in algorithms:  # every algorithm on the first problem it runs on
        problem = next(p for p, (marks, _) in rows.items() if marks[algorithms.index(algorithm)] == "x")
        runs.append((problem, algorithm, []))
    for problem, (marks, _) in rows.items():  # every problem with the first algorithm that runs it
        algorithm = algorithms[marks.index("x")]
        if (problem, algorithm, []) not in runs:
            runs.append((problem, algorithm, []))
    return runs + VARIANTS


def test_every_trace_column_is_documented(run, tmp_path):
    names, solvers = _documented()
    assert {"iteration", "inner_ok", "<solver>_converged"} <= names and "ksp" in solvers
    columns, failures = {}, []
    for problem, algorithm, extra in _runs(run):
        output = tmp_path / f"{problem}_{algorithm}_{len(extra)}.h5"
        result = run("-problem", problem, "-algorithm", algorithm, "-outer_iters", "2",
                     "-output", output, *SMALL.get(problem, []),
                     *EXTRA.get((problem, algorithm), []), *extra, timeout=300)
        if result.returncode not in (0, 5):
            failures.append(f"{problem}/{algorithm} {extra}: exit {result.returncode}: {result.stderr}")
            continue
        with h5py.File(output, "r") as f:
            for column in f["trace"]:
                columns.setdefault(column, f"{problem}/{algorithm} {' '.join(extra)}".strip())
    assert not failures, "\n".join(failures)
    missing = _undocumented(columns, names, solvers)
    assert not missing, "trace columns missing from docs/result-format.md: " + ", ".join(
        f"{c} (written by {columns[c]})" for c in sorted(missing))


def test_pattern_columns_need_their_solver_listed():
    """A solver column is documented by the pattern only if the pattern's row names the solver."""
    names, solvers = _documented()
    assert _undocumented({"ksp_converged", "tao_iterations"}, names, solvers) == set()
    assert _undocumented({"no_such_solver_converged", "no_such_metric"}, names, solvers) == {
        "no_such_solver_converged", "no_such_metric"}


def test_readme_names_every_problem_and_algorithm(run):
    listed = run("-list").stdout
    head = listed[:listed.index("Compatibility")]
    names = re.findall(r"^  ([a-z_0-9]+) ", head, re.M)
    assert len(names) >= 30, names
    readme = README.read_text()
    missing = [name for name in names if f"`{name}`" not in readme]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"
