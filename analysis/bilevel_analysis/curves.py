"""`bba curves`: metrics of several runs against iterations and against time, side by side.

The papers compare methods by plots like the PGD-QP paper's (Abolfazli et al.) Fig. 2 (validation loss and test accuracy
vs iterations and vs time): one row of panels per metric, one column per x-axis, one line per
run. Metrics reported every ``-report_every`` rows are NaN in between; the lines join the
reported points. The table gives each run's last reported value and its time per iteration.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import AnalysisError, HelpFormatter, markdown_table, pyplot, to_json
from .io import Run, load_runs

X_AXES = ("iteration", "time")


def last_reported(run: Run, metric: str) -> float:
    """The metric's last finite value (reporting-only metrics are NaN between reports)."""
    values = run.metric(metric)
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else math.nan


def run_label(run: Run, label_by: str) -> str:
    if label_by == "file":
        return run.label
    value = run.attr(label_by)
    if value is None:
        raise AnalysisError(f"{run.label}: no attribute '{label_by}' to label the run by")
    return str(value)


def summary_rows(runs: list[Run], metrics: list[str], label_by: str) -> list[list]:
    return [[run_label(r, label_by), r.n_iterations, r.time_per_iteration(), r.attr("status")]
            + [last_reported(r, m) for m in metrics] for r in runs]


def plot_curves(runs: list[Run], metrics: list[str], label_by: str, title: str,
                out: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(len(metrics), len(X_AXES), figsize=(5.5 * len(X_AXES),
                                                                  3.5 * len(metrics)),
                             squeeze=False)
    for r in runs:
        for i, metric in enumerate(metrics):
            values = r.metric(metric)
            shown = np.isfinite(values)
            for j, axis in enumerate(X_AXES):
                x = r.metric(axis)[shown]
                axes[i][j].plot(x, values[shown], label=run_label(r, label_by))
    for i, metric in enumerate(metrics):
        for j, axis in enumerate(X_AXES):
            ax = axes[i][j]
            ax.set_xlabel("outer iteration" if axis == "iteration" else "algorithm time [s]")
            ax.set_ylabel(metric)
            ax.grid(True, alpha=0.3)
    axes[0][0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def run(args) -> int:
    runs = load_runs(args.paths)
    for r in runs:
        for metric in args.metrics:
            r.metric(metric)  # a missing metric is an input error naming what exists
    if args.out:
        plot_curves(runs, args.metrics, args.label, args.title, Path(args.out))
    rows = summary_rows(runs, args.metrics, args.label)
    if args.json:
        print(to_json([dict(zip(["run", "iterations", "time_per_iteration", "status"]
                                + args.metrics, row)) for row in rows]))
        return 0
    header = ["run", "iterations", "s/iteration", "status"] + [f"final {m}" for m in args.metrics]
    print(markdown_table(header, rows))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "curves", help="metrics vs iterations and vs time for several runs, with a table",
        description="Plot each metric against the outer iteration and the algorithm time for "
                    "every run given (one line per run), and print each run's last reported "
                    "value of every metric with its time per iteration.",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories")
    p.add_argument("--metrics", nargs="+", required=True, metavar="METRIC",
                   help="trace metrics to plot, one row of panels each")
    p.add_argument("--label", default="algorithm",
                   help="attribute naming each run in the legend ('file' for the file name)")
    p.add_argument("--title", default="", help="figure title")
    p.add_argument("--out", metavar="PNG", help="write the figure here")
    p.add_argument("--json", action="store_true", help="machine-readable table")
    p.set_defaults(func=run)
