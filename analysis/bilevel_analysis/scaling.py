"""`bba scaling`: strong and weak scaling tables and plots from a sweep directory.

Runs are grouped by (problem, algorithm) and by their ``nranks`` attribute; repetitions at
the same rank count are reduced with the median, which is robust to one slow node. The
baseline is the smallest rank count present (normally 1); if it is p0 > 1, strong-scaling
speedups are relative and assume perfect scaling up to p0, S(p) = p0 T(p0) / T(p).
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .common import AnalysisError, HelpFormatter, markdown_table, pyplot, to_json
from .io import Run, load_runs


@dataclass
class ScalingRow:
    p: int
    runs: int
    time: float                 # median time per iteration at p ranks
    speedup: float | None       # strong scaling only
    efficiency: float
    model_time: float | None = None
    model_speedup: float | None = None
    model_efficiency: float | None = None


def efficiency_rows(times: dict[int, float], mode: str,
                    model: dict[int, float] | None = None, counts: dict[int, int] | None = None
                    ) -> list[ScalingRow]:
    """Speedup and efficiency per rank count from median times per iteration.

    Strong: S(p) = p0 T(p0) / T(p), E = S / p. Weak (work per rank fixed): E = T(p0) / T(p).
    The model columns apply the same formulas to the predicted times, so measured and
    predicted efficiencies can be compared directly.
    """
    ps = sorted(times)
    p0 = ps[0]

    def derived(t: dict[int, float], p: int):
        if mode == "strong":
            s = p0 * t[p0] / t[p]
            return s, s / p
        return None, t[p0] / t[p]

    rows = []
    for p in ps:
        s, e = derived(times, p)
        row = ScalingRow(p, (counts or {}).get(p, 1), times[p], s, e)
        if model and p in model:
            row.model_time = model[p]
            if p0 in model:
                row.model_speedup, row.model_efficiency = derived(model, p)
        rows.append(row)
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_model(path: str) -> dict[int, float]:
    """Predicted time per iteration per rank count from CSV (columns p, predicted_time,
    header optional) or JSON (list of {"p", "predicted_time"}, {"p": [...],
    "predicted_time": [...]}, or {"<p>": time})."""
    file = Path(path)
    if not file.exists():
        raise AnalysisError(f"{path}: no such model file")
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(file.read_text())
            if isinstance(data, list):
                pairs = [(d["p"], d["predicted_time"]) for d in data]
            elif "p" in data:
                pairs = list(zip(data["p"], data["predicted_time"]))
            else:
                pairs = list(data.items())
        else:
            rows = [r for r in csv.reader(file.read_text().splitlines()) if r]
            if rows and not _is_number(rows[0][0]):
                header = [h.strip() for h in rows[0]]
                ip, it = header.index("p"), header.index("predicted_time")
                rows = rows[1:]
            else:
                ip, it = 0, 1
            pairs = [(r[ip], r[it]) for r in rows]
        return {int(float(p)): float(t) for p, t in pairs}
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        raise AnalysisError(
            f"{path}: cannot read model (expected p, predicted_time): {exc}") from None


def group_times(runs: list[Run], event: str | None):
    """{(problem, algorithm): {p: [time per iteration of each repetition]}}."""
    groups: dict[tuple, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if "nranks" not in run.attrs:
            raise AnalysisError(f"{run.label}: no 'nranks' attribute")
        key = (str(run.attr("problem", "")), str(run.attr("algorithm", "")))
        groups[key][int(run.attrs["nranks"])].append(run.time_per_iteration(event))
    return groups


def plot_scaling(results: dict, mode: str, outdir: Path) -> list[Path]:
    """Time per iteration (log-log, with the ideal line), speedup (strong), efficiency."""
    plt = pyplot()
    from matplotlib.ticker import LogFormatter, NullFormatter, ScalarFormatter

    outdir.mkdir(parents=True, exist_ok=True)
    panels = [("time", "time per iteration [s]")]
    if mode == "strong":
        panels.append(("speedup", "speedup S(p)"))
    panels.append(("efficiency", "efficiency"))
    written = []
    for attr, ylabel in panels:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
        for i, (key, rows) in enumerate(results.items()):
            color = f"C{i % 10}"
            ps = [r.p for r in rows]
            ax.plot(ps, [getattr(r, attr) for r in rows], "o-", color=color,
                    label="/".join(key))
            model = [(r.p, getattr(r, "model_" + attr)) for r in rows
                     if getattr(r, "model_" + attr) is not None]
            if model:
                ax.plot(*zip(*model), "s:", color=color, label="/".join(key) + " (model)")
            p0, t0 = rows[0].p, rows[0].time
            ideal = {"time": [t0 * p0 / p if mode == "strong" else t0 for p in ps],
                     "speedup": ps, "efficiency": [1.0] * len(ps)}[attr]
            ax.plot(ps, ideal, "--", color="gray", lw=1, label="ideal" if i == 0 else None)
        ax.set_xscale("log", base=2)
        # Plain numbers, and ticks at the rank counts actually run (not 2^k notation).
        ax.set_xticks(sorted({r.p for rows in results.values() for r in rows}))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        if attr in ("time", "speedup"):
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
            ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        ax.set_xlabel("MPI ranks p")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{mode} scaling: {ylabel}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        out = outdir / f"scaling_{attr}.png"
        fig.savefig(out, dpi=100)
        plt.close(fig)
        written.append(out)
    return written


def run(args) -> int:
    model = read_model(args.model) if args.model else None
    groups = group_times(load_runs(args.paths), args.event)
    results = {}
    for key, by_p in sorted(groups.items()):
        times = {p: statistics.median(ts) for p, ts in by_p.items()}
        counts = {p: len(ts) for p, ts in by_p.items()}
        results[key] = efficiency_rows(times, args.mode, model, counts)

    if args.plot_dir:
        plot_scaling(results, args.mode, Path(args.plot_dir))
    if args.json:
        print(to_json({"mode": args.mode, "event": args.event, "groups": [
            {"problem": k[0], "algorithm": k[1], "rows": [vars(r) for r in rows]}
            for k, rows in results.items()]}))
        return 0
    what = f"event '{args.event}'" if args.event else "total time"
    for (problem, algorithm), rows in results.items():
        print(f"### {problem} / {algorithm}: {args.mode} scaling ({what} per iteration)\n")
        header = ["p", "runs", "T/iter [s]"] + (["speedup"] if args.mode == "strong" else [])
        header.append("efficiency")
        if model:
            header += ["model T/iter [s]", "model efficiency", "measured/model"]
        table = []
        for r in rows:
            line = [r.p, r.runs, r.time] + ([r.speedup] if args.mode == "strong" else [])
            line.append(r.efficiency)
            if model:
                ratio = r.time / r.model_time if r.model_time else None
                line += [r.model_time, r.model_efficiency, ratio]
            table.append(line)
        print(markdown_table(header, table) + "\n")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scaling", help="strong/weak scaling table and plots",
        description="Time per outer iteration, speedup and parallel efficiency per rank "
                    "count (attribute nranks) from the runs of a scaling sweep, grouped by "
                    "problem/algorithm, medians over repetitions. Strong: S(p) = T(1)/T(p), "
                    "E = S/p; weak: E = T(1)/T(p).",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or sweep directories")
    p.add_argument("--mode", choices=("strong", "weak"), default="strong",
                   help="strong: same total problem at every p; weak: same size per rank")
    p.add_argument("--event", help="use this timing event's total time instead of the trace "
                                   "time (e.g. a PETSc log stage or event name)")
    p.add_argument("--model", metavar="CSV|JSON",
                   help="predicted time per iteration per p (columns p, predicted_time) to overlay")
    p.add_argument("--plot-dir", metavar="DIR",
                   help="write scaling_time.png, scaling_speedup.png (strong), "
                        "scaling_efficiency.png here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
