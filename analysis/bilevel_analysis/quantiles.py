"""`bba quantiles`: which method converges fastest, in time and in oracle calls, over seeds.

The stochastic benchmark of Dagréou et al. (NeurIPS 2022) compares solvers by one metric
(‖∇Φ‖² on the quadratic, test error on hyper-cleaning) against wall time and against the
samples the oracles touched, as the median over seeds with the 20-80 % quantiles. This draws
those panels for one metric (`bba compare`'s figure restricted to the chosen axes, so the
median, band and common grid are the same code) and orders the methods in a table: per method,
how many seeds reached a threshold, the median time, samples and oracle calls at which they
reached it, and the median and 20/80 % quantiles of the final value.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import AnalysisError, HelpFormatter, fmt_num, markdown_table, pyplot, to_json
from .compare import (BAND, CALLS_PREFIX, SAMPLES_COLUMN, X_AXES, convergence_figure,
                      final_value, group_variants, higher_is_better, load, median_or_nan,
                      reached)

#: The sum of a row's calls_* columns: every gradient, Hessian-vector and cross-derivative
#: call alike, as the benchmark counts oracle calls.
TOTAL_CALLS = "calls_total"
AXIS_LABELS = {**dict(X_AXES), SAMPLES_COLUMN: "samples touched",
               TOTAL_CALLS: "oracle calls (all kinds)"}


def squared_name(metric: str) -> str:
    return f"{metric}^2"


def add_derived_columns(run, metric: str, square: bool) -> str:
    """Adds the total oracle calls and, with `square`, the squared metric to the run's trace;
    returns the name of the metric to plot."""
    calls = [c for c in run.trace if c.startswith(CALLS_PREFIX) and c != TOTAL_CALLS]
    if calls:
        run.trace[TOTAL_CALLS] = np.sum([np.asarray(run.trace[c], dtype=float) for c in calls],
                                        axis=0)
    if metric not in run.trace:
        raise AnalysisError(f"{run.label}: no trace column '{metric}' (it has: "
                            f"{', '.join(sorted(run.trace))})")
    if not square:
        return metric
    run.trace[squared_name(metric)] = np.asarray(run.trace[metric], dtype=float) ** 2
    return squared_name(metric)


def final_quantiles(variant, metric: str) -> tuple:
    finals = [v for v in (final_value(r, metric) for r in variant.runs) if math.isfinite(v)]
    if not finals:
        return math.nan, math.nan, math.nan
    low, high = np.percentile(finals, BAND)
    return float(np.median(finals)), float(low), float(high)


def ordering_rows(variants: list, metric: str, threshold: float | None, axes: list) -> list:
    """One row per variant, fastest first: the seeds that reached the threshold, the medians
    (over those seeds) of each axis at the first row that met it, and the final value's median
    and quantiles. Methods that reached it in more seeds come first, then by median time;
    without a threshold (or for methods that never reach it), by the final median."""
    rows = []
    for v in variants:
        hits = [(r, k) for r, k in ((r, reached(r, metric, threshold)) for r in v.runs)
                if k is not None] if threshold is not None else []
        done = {a: 1.0 if a == "iteration" else 0.0 for a in axes}  # rows are 0-based
        at_target = {a: median_or_nan([float(r.trace[a][k]) + done[a] for r, k in hits
                                       if a in r.trace]) for a in axes}
        med, low, high = final_quantiles(v, metric)
        rows.append({"method": v.label, "runs": len(v.runs), "reached": len(hits),
                     **{f"{a}_to_threshold": at_target[a] for a in axes},
                     "final_median": med, f"final_q{BAND[0]}": low, f"final_q{BAND[1]}": high})
    sign = -1.0 if higher_is_better(metric) else 1.0

    def key(row):
        time = row.get("time_to_threshold", math.nan)
        final = row["final_median"]
        return (-row["reached"], time if math.isfinite(time) else math.inf,
                sign * final if math.isfinite(final) else math.inf)

    return sorted(rows, key=key)


def run(args) -> int:
    runs, skipped = load(args.paths)
    if not runs:
        raise AnalysisError("no readable bilevelbench runs in "
                            + ", ".join(str(p) for p in args.paths))
    metric = args.metric
    for r in runs:
        metric = add_derived_columns(r, args.metric, args.square)
    problems = group_variants(runs)
    if args.problem:
        if args.problem not in problems:
            raise AnalysisError(f"no runs of problem '{args.problem}' (found: "
                                f"{', '.join(problems)})")
        problems = {args.problem: problems[args.problem]}
    axes = [a for a in args.x
            if any(a in r.trace for vs in problems.values() for v in vs for r in v.runs)]
    if not axes:
        raise AnalysisError(f"none of the axes {', '.join(args.x)} is in the traces")
    result = {}
    for problem, variants in problems.items():
        result[problem] = ordering_rows(variants, metric, args.threshold, axes)
        if args.out:
            out = Path(args.out)
            if len(problems) > 1:
                out = out.with_name(f"{out.stem}_{problem}{out.suffix}")
            fig = convergence_figure(problem, variants, [metric],
                                     [(a, AXIS_LABELS.get(a, a)) for a in axes])
            out.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out, dpi=args.dpi)
            pyplot().close(fig)
    if args.json:
        print(to_json(result))
        return 0
    relation = ">=" if higher_is_better(metric) else "<="
    for problem, rows in result.items():
        what = f"{metric} {relation} {fmt_num(args.threshold)}" if args.threshold is not None \
            else "no threshold"
        print(f"## {problem}: {metric}, median over seeds ({what})\n")
        header = ["rank", "method", "reached"] + [f"median {a}" for a in axes] + \
            ["final median", f"final {BAND[0]} %", f"final {BAND[1]} %"]
        print(markdown_table(header, [
            [i + 1, row["method"], f"{row['reached']}/{row['runs']}"]
            + [row[f"{a}_to_threshold"] for a in axes]
            + [row["final_median"], row[f"final_q{BAND[0]}"], row[f"final_q{BAND[1]}"]]
            for i, row in enumerate(rows)]))
        print()
    for path, why in skipped:
        print(f"skipped {path}: {why}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "quantiles", help="one metric's median and 20-80 %% band over seeds against time, "
                          "samples and oracle calls; methods ordered by time to a threshold",
        description="Per method (runs that differ only by seed), the median and the 20-80 % "
                    "quantiles over seeds of one metric, interpolated onto a common grid of "
                    "each x-axis (algorithm time, samples touched, all oracle calls), as one "
                    "PNG per problem; and a table ordering the methods by the seeds that reached "
                    "--threshold and the median time to it, with the median samples and calls "
                    "to it and the final value's median and quantiles.",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories")
    p.add_argument("-m", "--metric", required=True, help="trace column to compare")
    p.add_argument("--square", action="store_true",
                   help="use the metric's square (the benchmark plots ||grad Phi||^2)")
    p.add_argument("--threshold", type=float,
                   help="reached when the metric is <= this (>= for accuracies)")
    p.add_argument("--x", nargs="+", default=["time", SAMPLES_COLUMN, TOTAL_CALLS],
                   metavar="AXIS", help="x-axes: trace columns (time, iteration, samples, "
                                        "calls_*) or calls_total, the sum of the calls_* columns")
    p.add_argument("--problem", help="only this problem's runs")
    p.add_argument("--out", metavar="PNG", help="write the figure here (one per problem, "
                                                "suffixed with its name when there are several)")
    p.add_argument("--dpi", type=int, default=80, help="resolution of the PNG")
    p.add_argument("--json", action="store_true", help="machine-readable table")
    p.set_defaults(func=run)
