"""`bba compare`: one HTML page comparing methods across a campaign's (or any) result files.

Per problem: every metric against iterations, algorithm time and, when the traces count them
(columns ``calls_*`` and ``samples``), oracle calls and samples touched, one colour per variant (an algorithm and the
options that distinguish its runs from the others'), the median over seeds as a line and the
20-80 % quantile band around it; a time-to-target table (median time, iterations and oracle
calls to reach each target, and how many seeds reached it); the rates measured against the
papers' bounds (bba rates' table); the final values; every run's status and validity verdict.
Across rank counts: speedup and efficiency with the ideal line and, given the machine's
parameters, bba model's prediction. Files that cannot be read, or are not bilevelbench
results, are listed and skipped.
"""

from __future__ import annotations

import html
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .common import AnalysisError, HelpFormatter, fmt_num, pyplot
from .io import REQUIRED_TRACE, Run, read_file, result_files
from .model import add_model_arguments, model_runs
from .rates import PREDICTIONS, fit_last_decade, rate_check, verdict
from .report import Raw, html_table, save_figure

#: Metrics plotted when a run has them: the contract's three, then the problems' own.
METRICS = ("upper_objective", "hypergrad_norm", "lower_residual", "validation_loss",
           "test_accuracy", "test_loss", "test_error", "test_cell_error", "phi",
           "corrupted_weight_fraction")
#: x-axes of the convergence figures: trace column and axis label.
X_AXES = (("iteration", "outer iteration"), ("time", "algorithm time [s]"))
#: Trace columns that count oracle calls (cumulative at each row) start with this; with
#: SAMPLES_COLUMN (samples the calls touched, finite-sum problems only), each one found that is
#: not zero throughout becomes a further x-axis and a time-to-target column. (``oracle_error``
#: and ``oracle_cosine`` of qp_layer's -alg_check_oracle are accuracies, not counts.)
CALLS_PREFIX = "calls_"
SAMPLES_COLUMN = "samples"
#: |measured - predicted| slope within which a rate counts as reproduced (bba rates' default).
RATE_TOLERANCE = 0.15
#: Options that say where a run writes or how often it reports, not what it computes.
NOT_VARIANT = {"-output", "-restart_from", "-seed", "-monitor", "-flush_interval",
               "-report_every", "-problem", "-algorithm"}
BAND = (20, 80)
#: Line styles cycled with the colours: a variant whose curve lies on another's still shows.
DASHES = ("-", "--", "-.", ":")
GRID_POINTS = 200

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; font-family: monospace; }
.valid { color: #060; } .suspect { color: #a60; font-weight: bold; }
.invalid, .diverged, .failed, .interrupted, .running { color: #b00; font-weight: bold; }
img { max-width: 100%; border: 1px solid #ddd; }
p.note { color: #555; font-size: 0.9em; }
"""


def higher_is_better(metric: str) -> bool:
    return "accuracy" in metric


@dataclass
class Variant:
    """Runs of one problem that differ only by seed (and repetition)."""

    problem: str
    algorithm: str
    options: tuple            #: ((name, value), ...) that define it, -problem/-seed/... left out
    nranks: int
    runs: list = field(default_factory=list)
    label: str = ""


def variant_options(run: Run) -> tuple:
    opts = {n: v or "" for n, v in run.options if n and n not in NOT_VARIANT}
    return tuple(sorted(opts.items()))


def load(paths) -> tuple[list[Run], list[tuple[str, str]]]:
    """The runs of every readable result file, and (file, reason) for each one skipped."""
    runs, skipped = [], []
    for path in result_files(paths):
        try:
            found = read_file(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, not fatal
            skipped.append((str(path), str(exc).replace(f" {path}", "").replace(f"{path}: ", "")))
            continue
        for run in found:
            missing = [m for m in REQUIRED_TRACE if m not in run.trace]
            if "problem" not in run.attrs or "algorithm" not in run.attrs:
                skipped.append((run.label, "not a bilevelbench run (no problem/algorithm)"))
            elif missing:
                skipped.append((run.label, f"trace lacks {', '.join(missing)}"))
            else:
                runs.append(run)
    return runs, skipped


def group_variants(runs: list[Run]) -> dict:
    """{problem: [Variant]} with labels naming the options that differ between variants."""
    by_problem = defaultdict(dict)
    for run in runs:
        key = (str(run.attr("algorithm")), variant_options(run), int(run.attr("nranks", 1)))
        v = by_problem[str(run.attr("problem"))].setdefault(
            key, Variant(str(run.attr("problem")), *key))
        v.runs.append(run)
    out = {}
    for problem, variants in sorted(by_problem.items()):
        vs = sorted(variants.values(), key=lambda v: (v.algorithm, v.options, v.nranks))
        ranks_differ = len({v.nranks for v in vs}) > 1
        for v in vs:
            # The algorithm tells variants of different algorithms apart; among one
            # algorithm's, the options that differ do (the settings table lists the rest).
            same_algorithm = [w for w in vs if w.algorithm == v.algorithm]
            names = {n for w in same_algorithm for n, _ in w.options}
            opts = dict(v.options)
            parts = [(f"{n.lstrip('-')}={opts[n]}" if opts[n] else n.lstrip("-"))
                     if n in opts else f"no {n.lstrip('-')}"
                     for n in sorted(names)
                     if len({dict(w.options).get(n) for w in same_algorithm}) > 1]
            if ranks_differ:
                parts.append(f"np={v.nranks}")
            v.label = v.algorithm + (f" ({', '.join(parts)})" if parts else "")
        out[problem] = vs
    return out


def _finite_series(run: Run, metric: str, axis: str):
    y, x = run.trace.get(metric), run.trace.get(axis)
    if y is None or x is None:
        return None
    if axis == "iteration":
        x = x + 1  # iterations done when the row was written
    keep = np.isfinite(y) & np.isfinite(x)
    return (x[keep], y[keep]) if keep.any() else None


def quantile_curves(series: list):
    """Median and 20-80 % band over runs on a common x grid, over the x range every run
    covers: past the shortest run the median would jump to the remaining runs' values (the
    page says where runs stop early: iterations and times are in its tables)."""
    lo = max(s[0][0] for s in series)
    hi = min(s[0][-1] for s in series)
    x = np.linspace(lo, hi, GRID_POINTS) if hi > lo else np.array([hi])
    values = np.array([np.interp(x, sx, sy) for sx, sy in series])
    med = np.median(values, axis=0)
    low, high = np.percentile(values, BAND, axis=0)
    return x, med, low, high


def spans_decades(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return len(finite) > 0 and finite.min() > 0 and finite.max() > 10 * finite.min()


def is_count_column(column: str) -> bool:
    return column.startswith(CALLS_PREFIX) or column == SAMPLES_COLUMN


def oracle_columns(variants: list) -> list:
    """The count columns some run's trace has and counts something in (a kind a method never
    calls stays 0 and would be a flat axis)."""
    return sorted({c for v in variants for r in v.runs for c in r.trace
                   if is_count_column(c) and np.any(np.asarray(r.trace[c], dtype=float) > 0)})


def count_label(column: str) -> str:
    if column == SAMPLES_COLUMN:
        return "samples touched"
    return column[len(CALLS_PREFIX):].replace("_", " ") + " oracle calls"


def x_axes(variants: list) -> tuple:
    """Iterations and time, then one axis per oracle-call column the traces count in."""
    return X_AXES + tuple((c, count_label(c)) for c in oracle_columns(variants))


def variant_colours(plt, count: int) -> list:
    """One colour per variant: tab10's up to ten; beyond, tab20's dark shades first and then
    the light ones, so that the first ten still have distinct hues (tab20 in order pairs each
    hue with its light shade, which the legend cannot tell apart)."""
    if count <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(count)]
    tab20 = plt.get_cmap("tab20")
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return [tab20(order[i % 20]) for i in range(count)]


def convergence_figure(problem: str, variants: list, metrics: list, axes_shown=None):
    """Metrics (rows) against x-axes (columns: by default iterations, time and every count
    column; `axes_shown` picks others as (trace column, label) pairs)."""
    plt = pyplot()
    colours = variant_colours(plt, len(variants))
    axes_shown = axes_shown or x_axes(variants)
    width = 6 * len(axes_shown)
    fig, axes = plt.subplots(len(metrics), len(axes_shown), squeeze=False,
                             figsize=(width, 2.9 * len(metrics) + 0.9))
    for row, metric in enumerate(metrics):
        shown = []
        for col, (axis, xlabel) in enumerate(axes_shown):
            ax = axes[row][col]
            for i, v in enumerate(variants):
                series = [s for s in (_finite_series(r, metric, axis) for r in v.runs) if s]
                if not series:
                    continue
                x, med, low, high = quantile_curves(series)
                colour = colours[i]
                if len(x) == 1:
                    ax.plot(x, med, "o", color=colour)
                else:
                    ax.plot(x, med, color=colour, lw=1.8, ls=DASHES[i % len(DASHES)])
                    if len(v.runs) > 1:
                        ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
                shown.append(np.concatenate([s[1] for s in series]))
            ax.set_xlabel(xlabel)
            ax.set_ylabel(metric.replace("_", " "))
            if axis == "iteration":
                ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
            ax.grid(True, which="major", alpha=0.35)
        if shown and spans_decades(np.concatenate(shown)):
            for ax in axes[row]:
                ax.set_yscale("log")
    handles = [plt.Line2D([], [], color=colours[i], lw=2.5,
                          ls=DASHES[i % len(DASHES)],
                          label=f"{v.label}  [{len(v.runs)} run{'s' if len(v.runs) > 1 else ''}]")
               for i, v in enumerate(variants)]
    ncol = 1 if max(len(h.get_label()) for h in handles) > 60 else 2
    nrows = math.ceil(len(handles) / ncol)
    legend_height = 0.28 * nrows + 0.5
    fig.set_size_inches(width, fig.get_size_inches()[1] + legend_height)
    height = fig.get_size_inches()[1]
    # The legend gets its own strip under the panels, so it never covers a curve.
    fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False,
               fontsize="medium", bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"{problem}: median over seeds, band {BAND[0]}-{BAND[1]} %", fontsize="large")
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.55 / height,
                        bottom=(legend_height + 0.55) / height, wspace=0.22, hspace=0.45)
    return fig


def reached(run: Run, metric: str, target: float):
    """The first trace row that meets the target, or None."""
    y = run.trace.get(metric)
    if y is None:
        return None
    with np.errstate(invalid="ignore"):
        hit = y >= target if higher_is_better(metric) else y <= target
    rows = np.flatnonzero(hit & np.isfinite(y))
    return int(rows[0]) if len(rows) else None


def target_rows(variants: list, targets: dict, oracles: list):
    """Per target and variant: seeds that reached it, then the medians over those seeds of
    the time, the iterations and each oracle-call count at the row where each reached it."""
    for metric, values in targets.items():
        if not any(metric in r.trace for v in variants for r in v.runs):
            continue
        for target in values:
            for v in variants:
                hits = [(r, k) for r, k in ((r, reached(r, metric, target)) for r in v.runs)
                        if k is not None]
                relation = ">=" if higher_is_better(metric) else "<="
                yield [f"{metric} {relation} {fmt_num(target)}", v.label,
                       f"{len(hits)}/{len(v.runs)}",
                       median_or_nan([float(r.trace["time"][k]) for r, k in hits]),
                       median_or_nan([k + 1 for r, k in hits]),
                       *(median_or_nan([float(r.trace[c][k]) for r, k in hits if c in r.trace])
                         for c in oracles)]


def rate_rows(variants: list):
    """Each variant's rate over the last decade of its runs' iterations against the bound of
    its method's paper (rates.rate_check), where the trace has the quantity."""
    for v in variants:
        check = rate_check(v.algorithm, dict(v.options))
        if check is None:
            continue
        fits = []
        for r in v.runs:
            if check.metric in r.trace:
                try:
                    fits.append(fit_last_decade(r, check))
                except AnalysisError:  # too few positive points: the run is not counted
                    pass
        if not fits:
            continue
        slopes = [f.slope for f in fits]
        measured = float(np.median(slopes))
        predicted = PREDICTIONS[check.prediction].slope
        lo, hi = fits[0].x_range
        yield [v.label, check.quantity, f"{len(fits)}/{len(v.runs)}", f"{lo:g}..{hi:g}",
               measured, f"{min(slopes):.3g} .. {max(slopes):.3g}", predicted,
               check.prediction, verdict(measured, predicted, RATE_TOLERANCE)]


def final_value(run: Run, metric: str) -> float:
    y = run.trace.get(metric)
    if y is None:
        return math.nan
    finite = y[np.isfinite(y)]
    return float(finite[-1]) if len(finite) else math.nan


def verdict_cell(text: str) -> Raw:
    kind = text.split(":")[0].strip() or "unknown"
    return Raw(f'<td class="{html.escape(kind)}">{html.escape(text)}</td>')


def run_rows(variants: list):
    for v in variants:
        for r in sorted(v.runs, key=lambda r: (int(r.attr("seed", 0)), r.label)):
            n = len(r.trace["time"])
            yield [r.label, v.label, r.attr("seed", "—"), r.attr("nranks", "—"),
                   verdict_cell(str(r.attr("status", "?"))),
                   verdict_cell(str(r.attr("validity", "not recorded"))), n,
                   float(r.trace["time"][-1]) if n else math.nan]


def settings_rows(variants: list):
    for v in variants:
        yield [v.label, " ".join(f"{n} {val}".strip() for n, val in v.options) or "defaults"]


def median_or_nan(values) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def final_rows(variants: list, metrics: list):
    for v in variants:
        times = [r.time_per_iteration() for r in v.runs if len(r.trace["time"])]
        yield [v.label, len(v.runs), median_or_nan(times),
               *(median_or_nan([final_value(r, m) for r in v.runs])
                 if any(m in r.trace for r in v.runs) else "—" for m in metrics)]


@dataclass
class ScalingGroup:
    name: str
    mode: str                   #: strong (same options at every rank count) or weak
    points: dict                #: {ranks: [seconds per iteration]}
    runs: list = field(default_factory=list)
    kernel: str | None = None   #: the campaign study's model_kernel (bba model --kernel)
    model: dict = field(default_factory=dict)  #: {ranks: (speedup, efficiency)} predicted


def scaling_groups(runs: list[Run], manifest: dict | None) -> list[ScalingGroup]:
    """Runs of one setting at several rank counts: a campaign study (from its manifest), else
    runs whose options agree apart from the rank count."""
    groups = defaultdict(list)
    studies = defaultdict(list)  # a run two studies share (weak and strong) is in both
    kernels = {}
    for planned in (manifest or {}).get("runs", []):
        studies[planned["file"]].append(planned["study"])
        kernels[planned["study"]] = planned.get("model_kernel")
    for run in runs:
        keys = studies.get(run.path.name) or [
            f"{run.attr('problem')}/{run.attr('algorithm')} " + " ".join(
                f"{n} {v}".strip() for n, v in variant_options(run))]
        for key in keys:
            groups[key].append(run)
    out = []
    for name, members in sorted(groups.items()):
        ranks = {int(r.attr("nranks", 1)) for r in members}
        if len(ranks) < 2 or 1 not in ranks:
            continue
        settings = {variant_options(r) for r in members}
        points = defaultdict(list)
        for r in members:
            if len(r.trace["time"]):
                points[int(r.attr("nranks", 1))].append(r.time_per_iteration())
        out.append(ScalingGroup(name, "strong" if len(settings) == 1 else "weak", dict(points),
                                members, kernels.get(name)))
    return out


def add_models(groups: list[ScalingGroup], model_args) -> list[str]:
    """bba model's cluster prediction for each strong group, fitted to its runs at 1 and 2
    ranks (weak groups hold another size at each rank count, which the fit does not take);
    returns why a group got none, and what the fit had to assume."""
    notes = []
    for g in groups:
        if g.mode != "strong":
            continue
        pair = [r for r in g.runs if int(r.attr("nranks", 1)) in (1, 2)]
        try:
            fit, *_, rows = model_runs(pair, model_args, g.kernel)
        except AnalysisError as exc:
            notes.append(f"{g.name}: no model ({exc})")
            continue
        g.model = {r.p: (r.strong_speedup, r.strong_efficiency) for r in rows}
        notes += [f"{g.name}: model fit: {note}" for note in fit.notes]
    return notes


def scaling_figure(groups: list[ScalingGroup]):
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 0.25, 1, 1024: no powers of two

    colours = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    fig, (sp, ef) = plt.subplots(1, 2, figsize=(12, 4.2 + 0.28 * len(groups)))
    top = max(max(g.points) for g in groups)
    modelled = [g for g in groups if g.model]
    if modelled:
        top = max(top, max(max(g.model) for g in modelled))
    for i, g in enumerate(groups):
        ranks = sorted(g.points)
        t = np.array([np.median(g.points[p]) for p in ranks])
        p = np.array(ranks, dtype=float)
        # Strong: speedup T1/Tp, efficiency speedup/p. Weak (size grows with p): efficiency
        # T1/Tp and the scaled speedup p T1/Tp.
        eff = t[0] / t / (p if g.mode == "strong" else 1)
        speed = eff * p
        label = f"{g.name} ({g.mode})"
        sp.plot(p, speed, "o-", color=colours(i % colours.N), label=label)
        ef.plot(p, eff, "o-", color=colours(i % colours.N))
        if g.model:
            mp = sorted(g.model)
            sp.plot(mp, [g.model[q][0] for q in mp], ":", lw=1.8, color=colours(i % colours.N),
                    label=f"{g.name}: cluster model")
            ef.plot(mp, [g.model[q][1] for q in mp], ":", lw=1.8, color=colours(i % colours.N))
    ideal = np.array([1, top])
    sp.plot(ideal, ideal, "k--", lw=1, label="ideal")
    ef.axhline(1.0, color="k", ls="--", lw=1)
    ticks = sorted({p for g in groups for p in g.points} | {p for g in modelled for p in g.model})
    for ax, name in ((sp, "speedup (weak: scaled)"), (ef, "parallel efficiency")):
        ax.set_xlabel("MPI ranks")
        ax.set_ylabel(name)
        if modelled:  # the model reaches far past the measured rank counts
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ticks)
        ax.grid(True, alpha=0.35)
    if modelled:
        sp.set_yscale("log", base=2)
        sp.yaxis.set_major_formatter(plain)
        sp.yaxis.set_minor_formatter(NullFormatter())
    ef.set_ylim(0, max(1.2, ef.get_ylim()[1]))
    height = fig.get_size_inches()[1]
    legend_height = 0.28 * (len(groups) + len(modelled) + 1) / 2 + 0.4
    fig.legend(loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=(legend_height + 0.6) / height,
                        wspace=0.22)
    fig.suptitle("scaling: median time per iteration over repetitions")
    return fig


def scaling_rows(groups: list[ScalingGroup]):
    for g in groups:
        t1 = float(np.median(g.points[1]))
        for p in sorted(g.points):
            tp = float(np.median(g.points[p]))
            eff = t1 / tp / (p if g.mode == "strong" else 1)
            yield [g.name, g.mode, p, len(g.points[p]), tp, eff * p, eff]
        for p in sorted(set(g.model) - set(g.points)):
            yield [g.name, "cluster model", p, "—", "—", *g.model[p]]


def read_manifest(paths) -> dict | None:
    for p in map(Path, paths):
        m = p / "campaign.json" if p.is_dir() else None
        if m and m.exists():
            try:
                return json.loads(m.read_text())
            except json.JSONDecodeError as exc:
                raise AnalysisError(f"{m}: not valid JSON ({exc})") from None
    return None


def parse_targets(specs: list) -> dict:
    targets = {}
    for spec in specs:
        metric, _, values = spec.partition("=")
        try:
            targets[metric] = [float(v) for v in values.split(",")]
        except ValueError:
            raise AnalysisError(f"--target {spec!r}: use METRIC=V1,V2,...") from None
        if not metric or not values:
            raise AnalysisError(f"--target {spec!r}: use METRIC=V1,V2,...")
    return targets


def build(paths, output: Path, title: str | None, embed: bool, targets: dict,
          model_args=None) -> dict:
    """The page; ``model_args`` (machine, cluster and workload options) add bba model's
    prediction to the scaling figure."""
    runs, skipped = load(paths)
    manifest = read_manifest(paths)
    if manifest:
        targets = {**manifest.get("targets", {}), **targets}
        title = title or manifest.get("title")
    title = title or "bilevelbench comparison"
    if not runs:
        raise AnalysisError("no readable bilevelbench run among the files given"
                            + (f" ({len(skipped)} skipped: {skipped[0][0]}: {skipped[0][1]})"
                               if skipped else ""))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig_dir = output.with_name(output.stem + "_files")
    if not embed:
        fig_dir.mkdir(exist_ok=True)
    figures = []

    def figure(fig, name):
        path = None if embed else fig_dir / f"{name}.png"
        figures.append(path)
        return save_figure(fig, path, dpi=100)

    problems = group_variants(runs)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(runs)} run(s) of {len(problems)} problem(s)"
             f"{f'; {len(skipped)} file(s) skipped (listed at the end)' if skipped else ''}. "
             f"Lines are medians over seeds, shaded bands the {BAND[0]}-{BAND[1]} % quantiles, "
             f"drawn as far as every seed's run goes; "
             f"a variant is an algorithm with the options that set its runs apart.</p>",
             "<ul>" + "".join(f"<li><a href='#{html.escape(p)}'>{html.escape(p)}</a></li>"
                              for p in problems) + "</ul>"]
    for problem, variants in problems.items():
        metrics = [m for m in METRICS if any(m in r.trace and np.isfinite(r.trace[m]).any()
                                             for v in variants for r in v.runs)]
        src = figure(convergence_figure(problem, variants, metrics), f"{problem}_convergence")
        parts += [f"<h2 id='{html.escape(problem)}'>{html.escape(problem)}</h2>",
                  f"<img src='{html.escape(src)}' alt='{html.escape(problem)}: metrics against "
                  f"iterations and time'>"]
        oracles = oracle_columns(variants)
        rows = list(target_rows(variants, targets, oracles))
        parts.append("<h3>Time to target</h3>")
        parts.append(html_table(["target", "variant", "seeds reached", "median time [s]",
                                 "median iterations", *(f"median {c}" for c in oracles)], rows)
                     if rows else
                     "<p class='note'>No targets for this problem's metrics (give them in the "
                     "campaign's [targets] or with --target METRIC=V1,V2).</p>")
        rates = list(rate_rows(variants))
        if rates:
            parts += ["<h3>Rates against the papers' bounds</h3>",
                      "<p class='note'>Slope of log(quantity) against log K over each run's "
                      "last decade of iterations (median over runs), against the rate of the "
                      "method's paper (docs/algorithms.md §8, <code>bba rates "
                      "--list-predictions</code>): a bound is met when the verdict is "
                      f"reproduced (within ±{RATE_TOLERANCE}) or faster.</p>",
                      html_table(["variant", "quantity", "runs fitted", "K range",
                                  "measured slope", "range over runs", "bound", "rate",
                                  "verdict"], rates)]
        parts += ["<h3>Variants</h3>",
                  html_table(["variant", "options (besides -problem, -algorithm, -seed)"],
                             settings_rows(variants)),
                  "<h3>Final values (median over seeds)</h3>",
                  html_table(["variant", "runs", "s/iteration", *metrics],
                             final_rows(variants, metrics)),
                  "<h3>Runs</h3>",
                  html_table(["file", "variant", "seed", "ranks", "status", "validity",
                              "iterations", "time [s]"], run_rows(variants))]
    groups = scaling_groups(runs, manifest)
    if groups:
        notes = add_models(groups, model_args) if model_args else []
        src = figure(scaling_figure(groups), "scaling")
        parts += ["<h2 id='scaling'>Scaling</h2>",
                  f"<img src='{html.escape(src)}' alt='speedup and efficiency'>",
                  "<p class='note'>Dotted: bba model's prediction for a cluster "
                  "(docs/performance-model.md), fitted to each strong setting's runs at 1 and "
                  "2 ranks here" + ("" if model_args else
                                    "; give the machine's parameters (--machine) to draw it")
                  + ".</p>", *(f"<p class='note'>{html.escape(n)}</p>" for n in notes),
                  html_table(["setting", "mode", "ranks", "runs", "median s/iteration",
                              "speedup", "efficiency"], scaling_rows(groups))]
    if skipped:
        parts += ["<h2 id='skipped'>Skipped files</h2>",
                  html_table(["file", "why"], [[f, why] for f, why in skipped])]
    parts.append("</body></html>")
    output.write_text("\n".join(parts), encoding="utf-8")
    return {"page": output, "figures": [f for f in figures if f], "skipped": skipped}


def run(args) -> int:
    modelled = args.machine or args.stream_gbs
    result = build(args.paths, Path(args.output), args.title, args.embed,
                   parse_targets(args.target), args if modelled else None)
    for path, why in result["skipped"]:
        print(f"bba compare: skipped {path}: {why}", file=sys.stderr)
    print(result["page"])
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="one HTML page comparing methods: overlaid curves, targets, scaling",
        description="Compare the runs in result files or directories (a campaign's result "
                    "directory also gives its title and targets): per problem, each metric "
                    "against iterations, time, oracle calls and samples touched (calls_* and "
                    "samples columns) with the "
                    "methods overlaid (median over seeds and the 20-80 %% band), time to "
                    "target, rates against the papers' bounds, final values, every run's "
                    "validity; speedup and efficiency across rank counts, with bba model's "
                    "cluster prediction given --machine. Unreadable or foreign files are "
                    "reported and skipped.",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories")
    p.add_argument("-o", "--output", default="compare.html", help="HTML file to write")
    p.add_argument("--title", help="page title (default: the campaign's)")
    p.add_argument("--embed", action="store_true",
                   help="embed the PNGs (one self-contained file) instead of writing them "
                        "beside the page in <output stem>_files/")
    p.add_argument("--target", action="append", default=[], metavar="METRIC=V1,V2",
                   help="targets for the time-to-target table (added to the campaign's)")
    add_model_arguments(p)  # --machine draws bba model's prediction beside measured scaling
    p.set_defaults(func=run)
