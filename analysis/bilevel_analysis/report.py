"""`bba report`: a single self-contained HTML page for a results directory.

One page a reviewer can open from a job's output directory or attach to a release: a
summary table of all runs, then per run its metadata, trace plots (against iteration and
against wall time, since methods with expensive iterations look different on each) and
its most expensive timing events. Figures are PNG files next to the page, referenced by
relative paths, or embedded as base64 with --embed so the page is a single file.
"""

from __future__ import annotations

import base64
import html
import io as _stdio
import math
from pathlib import Path

import numpy as np

from .common import HelpFormatter, fmt_num, pyplot
from .io import Run, load_runs

PLOT_METRICS = ("upper_objective", "hypergrad_norm", "lower_residual")
PLOT_AXES = (("iteration", "iteration"), ("time", "time [s]"))
METADATA = ("problem", "algorithm", "status", "nranks", "seed", "hostname", "git_commit",
            "suite_version", "format_version", "started_utc", "finished_utc", "options")
TOP_EVENTS = 12

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1300px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; }
th { background: #eee; } td.num { text-align: right; font-family: monospace; }
.status-diverged, .status-failed, .status-interrupted { color: #b00; font-weight: bold; }
.status-running { color: #a60; }
img { max-width: 100%; }
"""


def trace_figure(run: Run):
    """2x3 grid: each contract metric against iteration (top) and time (bottom).

    A log y-axis is used when all values are positive and span more than a decade
    (norms and residuals usually do); otherwise, e.g. for a negative or flat
    upper_objective, the axis stays linear.
    """
    plt = pyplot()
    fig, axes = plt.subplots(len(PLOT_AXES), len(PLOT_METRICS), figsize=(13, 6.5), squeeze=False)
    for col, metric in enumerate(PLOT_METRICS):
        for row, (xname, xlabel) in enumerate(PLOT_AXES):
            ax = axes[row][col]
            y, x = run.trace.get(metric), run.trace.get(xname)
            ax.set_title(metric, fontsize="medium")
            ax.set_xlabel(xlabel)
            if y is None or x is None or len(y) == 0:
                ax.text(0.5, 0.5, f"no {metric if y is None else xname} data",
                        ha="center", va="center", transform=ax.transAxes)
                continue
            n = min(len(x), len(y))
            # Metrics evaluated every -objective_every rows are NaN in between: join the
            # evaluated rows (a NaN would break the line into invisible single points).
            shown = np.isfinite(y[:n]) & np.isfinite(x[:n])
            ax.plot(x[:n][shown], y[:n][shown], lw=1.2)
            finite = y[np.isfinite(y)]
            if len(finite) and finite.min() > 0 and finite.max() > 10 * finite.min():
                ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(run.label)
    # Fixed margins: tight_layout measures every log-axis tick label and triples the
    # time per figure, which adds up over a directory of hundreds of runs.
    fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.09, wspace=0.28, hspace=0.45)
    return fig


def save_figure(fig, path: Path | None, dpi: int = 80) -> str:
    """Write the figure and return the <img> src: a relative path, or a data URI when
    path is None (embedded mode)."""
    plt = pyplot()
    try:
        if path is not None:
            fig.savefig(path, dpi=dpi)
            return f"{path.parent.name}/{path.name}"
        buf = _stdio.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    finally:
        plt.close(fig)


class Raw(str):
    """A pre-rendered <td> cell (links, status classes) that must not be escaped."""


def _cell(value) -> str:
    if isinstance(value, Raw):
        return value
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f'<td class="num">{html.escape(fmt_num(value, 6))}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def html_table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(map(_cell, r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def summary_rows(runs: list[Run], with_accuracy: bool):
    for i, run in enumerate(runs):
        status = str(run.attr("status", "?"))
        row = [Raw(f'<td><a href="#run-{i}">{html.escape(run.label)}</a></td>'),
               run.attr("problem", "?"), run.attr("algorithm", "?"),
               Raw(f'<td class="status-{html.escape(status)}">{html.escape(status)}</td>'),
               run.attr("nranks", "?"), len(run.trace.get("time", [])),
               *(run.final(m) for m in PLOT_METRICS)]
        if with_accuracy:
            row.append(run.final("test_accuracy"))
        row.append(run.final("time"))
        yield row


def timing_table(run: Run) -> str:
    events = sorted(run.timing.items(), key=lambda kv: -kv[1].time)[:TOP_EVENTS]
    if not events:
        return "<p>No timing events recorded.</p>"
    return html_table(["event", "count", "time [s]", "Mflop/s"],
                      [[name, e.count, e.time, e.flops / e.time / 1e6 if e.time > 0 else math.nan]
                       for name, e in events])


def build_report(runs: list[Run], output: Path, title: str, embed: bool) -> Path:
    """Write the HTML page (and its PNG directory unless embedded); return the page path."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fig_dir = output.with_name(output.stem + "_files")
    if not embed:
        fig_dir.mkdir(exist_ok=True)
    with_acc = any("test_accuracy" in r.trace for r in runs)
    header = ["run", "problem", "algorithm", "status", "nranks", "iterations",
              *(f"final {m}" for m in PLOT_METRICS)]
    header += ["final test_accuracy"] if with_acc else []
    header += ["time [s]"]
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{len(runs)} run(s).</p>",
             "<h2>Summary</h2>", html_table(header, summary_rows(runs, with_acc))]
    for i, run in enumerate(runs):
        src = save_figure(trace_figure(run), None if embed else fig_dir / f"run_{i:03d}.png")
        meta = [[k, run.attrs[k]] for k in METADATA if k in run.attrs]
        parts += [f"<h2 id='run-{i}'>{html.escape(run.label)}</h2>",
                  html_table(["attribute", "value"], meta),
                  f"<img src='{html.escape(src)}' alt='traces of {html.escape(run.label)}'>",
                  "<details><summary>Timing (most expensive events)</summary>",
                  timing_table(run), "</details>"]
    parts.append("</body></html>")
    output.write_text("\n".join(parts), encoding="utf-8")
    return output


def run(args) -> int:
    runs = load_runs(args.paths)
    out = build_report(runs, Path(args.output), args.title, args.embed)
    print(out)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="self-contained HTML report of a results directory",
        description="Write one HTML page with a summary table of all runs and, per run, "
                    "its metadata, traces of upper_objective, hypergrad_norm and "
                    "lower_residual against iteration and time, and its timing events. PNGs "
                    "go to <output stem>_files/ (relative links) unless --embed.",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories")
    p.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    p.add_argument("--title", default="bilevelbench results", help="page title")
    p.add_argument("--embed", action="store_true",
                   help="embed PNGs as base64 (single file) instead of writing them beside it")
    p.set_defaults(func=run)
