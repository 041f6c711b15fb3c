"""`bba history`: one page following every benchmark across releases, with the change points.

Each argument is one release's results of the regression campaign, oldest first (a directory
per release, as benchmarks/campaigns/regression.toml suggests). Per benchmark: the median time
per iteration with its 20-80 % band over repetitions, and the final objective, against the
release; a release where `bba regress` against the previous one finds a significant slowdown
or speed-up, or a changed number, is a change point, marked on the plot and listed.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from .common import AnalysisError, HelpFormatter, fmt_num, pyplot
from .regress import NUMBERS, compare, samples_from_runs
from .report import html_table, save_figure


def release_label(path: str) -> str:
    return Path(path).name or str(path)


def change_points(releases: list, threshold: float, alpha: float) -> dict:
    """{benchmark label: [(release index, what changed)]} between consecutive releases."""
    points: dict = {}
    for i in range(1, len(releases)):
        before, after = releases[i - 1][1], releases[i][1]
        for key in before.keys() & after.keys():
            c = compare(before[key], after[key], threshold, alpha, NUMBERS)
            what = []
            if c.verdict in ("REGRESSION", "improvement"):
                what.append(f"time x{c.ratio:.3g} (p = {c.pvalue:.2g})")
            what += [f"{n} {fmt_num(c.numbers[n][0], 8)} -> {fmt_num(c.numbers[n][1], 8)}"
                     for n in c.changed]
            if what:
                points.setdefault(c.label, []).append((i, "; ".join(what)))
    return points


def history_figure(label: str, releases: list, key, marks: list):
    plt = pyplot()
    fig, (tax, oax) = plt.subplots(1, 2, figsize=(12, 3.6))
    xs, med, low, high, obj = [], [], [], [], []
    for i, (_, samples) in enumerate(releases):
        s = samples.get(key)
        if s is None or not s.times:
            continue
        xs.append(i)
        med.append(np.median(s.times))
        lo, hi = np.percentile(s.times, (20, 80))
        low.append(lo)
        high.append(hi)
        obj.append(np.median(s.objective))
    tax.plot(xs, med, "o-", color="C0")
    tax.fill_between(xs, low, high, color="C0", alpha=0.2, lw=0)
    oax.plot(xs, obj, "o-", color="C1")
    for i, _ in marks:
        for ax in (tax, oax):
            ax.axvline(i, color="C3", ls="--", lw=1)
    names = [name for name, _ in releases]
    for ax, ylabel in ((tax, "time per iteration [s]"), (oax, "final upper objective")):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.35)
    tax.set_ylim(bottom=0)
    fig.suptitle(label, fontsize="medium")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.25, wspace=0.25)
    return fig


def build(paths: list, output: Path, threshold: float, alpha: float) -> Path:
    if len(paths) < 2:
        raise AnalysisError("give at least two releases' results, oldest first")
    releases = [(release_label(p), samples_from_runs(p, None)) for p in paths]
    points = change_points(releases, threshold, alpha)
    keys = sorted({k for _, samples in releases for k in samples},
                  key=lambda k: next(s[k].label for _, s in releases if k in s))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig_dir = output.with_name(output.stem + "_files")
    fig_dir.mkdir(exist_ok=True)
    rows = [[label, releases[i][0], what] for label, marks in sorted(points.items())
            for i, what in marks]
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>history"
             "</title><style>body{font-family:sans-serif;margin:2em;max-width:1300px}"
             "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .6em}"
             "img{max-width:100%}</style></head><body>",
             f"<h1>Benchmarks across {len(releases)} releases</h1>",
             "<p>Change points: a release whose time per iteration differs from the previous "
             f"one's by more than {threshold:.0%} with p &lt; {alpha:g} (U test over the "
             "repetitions), or whose numbers moved beyond their tolerances (bba regress). "
             "Dashed red lines mark them.</p>",
             html_table(["benchmark", "release", "change"], rows) if rows else
             "<p>No change points.</p>"]
    for n, key in enumerate(keys):
        label = next(s[key].label for _, s in releases if key in s)
        marks = points.get(label, [])
        src = save_figure(history_figure(label, releases, key, marks),
                          fig_dir / f"benchmark_{n:03d}.png", dpi=100)
        parts += [f"<h2>{html.escape(label)}</h2>",
                  f"<img src='{html.escape(src)}' alt='history of {html.escape(label)}'>"]
    parts.append("</body></html>")
    output.write_text("\n".join(parts), encoding="utf-8")
    return output


def run(args) -> int:
    print(build(args.releases, Path(args.output), args.threshold, args.alpha))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "history", help="benchmarks across releases with change points (HTML)",
        description="One page following each benchmark's time per iteration and final "
                    "objective across releases (one result directory each, oldest first), "
                    "with the releases where bba regress finds a change against the previous.",
        formatter_class=HelpFormatter)
    p.add_argument("releases", nargs="+", metavar="DIR", help="results per release, oldest first")
    p.add_argument("-o", "--output", default="history.html", help="HTML file to write")
    p.add_argument("--threshold", type=float, default=0.05, help="relative time change")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level")
    p.set_defaults(func=run)
