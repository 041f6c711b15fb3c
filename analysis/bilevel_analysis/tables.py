"""`bba tables`: the IGFM paper's (Chen, Xu & Zhang 2023) Table 2 and Table 3 from result files, beside the paper's numbers.

Table 2 (adversarial training, ``adversarial_ls``): mean ± std over seeds of the final
``phi`` (the closed-form hyper-objective at the last iterate, the paper's "MSE measured by
the value of phi(x)"). Table 3 (hyperparameter tuning, ``hyperparam_logreg``): mean ± std
over seeds of the final ``test_accuracy`` in %, one column per corruption rate p (option
``-problem_corruption``, default 0.1 as in the problem). Means and stds are over finished
runs (``completed``/``converged``); a ``diverged`` run is an outcome of its method and is
counted beside them ("4 + 1 diverged"). Every method shown must have at least
``--min-seeds`` distinct seeds (finished or diverged), else the input is refused (exit 2), so
a table never rests on fewer runs than it claims. Methods of the paper without runs here
are listed with "-".
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path

from .common import AnalysisError, HelpFormatter, markdown_table
from .hyperobjective_gap import gap_tables
from .options import add_binary_argument
from .io import Run, load_runs
from .status import DIVERGED, RAN_TO_END as FINISHED

#: Chen, Xu & Zhang (the IGFM paper, 2023), Table 2: MSE mean, std on LIBSVM "abalone".
PAPER_TABLE2 = {"aid": (1.781, 0.418), "itd": (0.982, 0.015), "bgs": (0.995, 0.259),
                "bda": (0.976, 0.014), "bome": (0.999, 0.140), "ia-gm": (0.992, 0.013),
                "igfm": (0.936, 0.015)}
#: Table 3: test accuracy (%) on MNIST at p = 0.5, 0.3, 0.1.
PAPER_TABLE3 = {"aid": (75.8, 87.5, 91.3), "itd": (75.8, 87.5, 91.3), "bgs": (75.8, 87.5, 91.3),
                "bda": (81.2, 89.3, 91.5), "bome": (86.7, 88.9, 89.3),
                "ia-gm": (86.9, 90.3, 90.5), "igfm": (88.4, 91.0, 91.8)}
PAPER_P = (0.5, 0.3, 0.1)
DEFAULT_CORRUPTION = 0.1


def final_value(run: Run, metric: str) -> float:
    """The last finite value of a trace metric (report metrics are NaN between reports)."""
    values = [v for v in run.metric(metric) if math.isfinite(v)]
    if not values:
        raise AnalysisError(f"{run.label}: metric '{metric}' has no finite value")
    return float(values[-1])


def corruption(run: Run) -> float:
    found = [v for n, v in run.options if n == "-problem_corruption"]
    return float(found[-1]) if found else DEFAULT_CORRUPTION


def _collect(runs, problem, metric, scale, group_of, min_seeds):
    """({(algorithm, group): {seed: value}} of finished runs of `problem`,
    {(algorithm, group): set of diverged seeds})."""
    values: dict = defaultdict(dict)
    diverged: dict = defaultdict(set)
    for run in runs:
        status = run.attr("status")
        if run.attr("problem") != problem or (status not in FINISHED and status != DIVERGED):
            continue
        key = (str(run.attr("algorithm")), group_of(run))
        seed = int(run.attr("seed", 0))
        if status == DIVERGED:
            diverged[key].add(seed)
        else:
            values[key][seed] = scale * final_value(run, metric)
    for key in set(values) | set(diverged):
        seeds = set(values.get(key, {})) | diverged.get(key, set())
        if len(seeds) < min_seeds:
            algorithm, group = key
            where = f" at p = {group}" if group is not None else ""
            raise AnalysisError(f"{problem}/{algorithm}{where}: {len(seeds)} seed(s) "
                                f"{sorted(seeds)}; at least {min_seeds} required")
    return values, diverged


def _count(values: dict, diverged: set) -> str:
    return str(len(values)) + (f" + {len(diverged)} diverged" if diverged else "")


def _mean_std(values) -> tuple[float, float]:
    v = list(values)
    return statistics.fmean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def _order(methods) -> list[str]:
    """Paper's methods first in the paper's order, then any others alphabetically."""
    known = [m for m in PAPER_TABLE2 if m in methods]
    return known + sorted(m for m in methods if m not in PAPER_TABLE2)


def table2(runs, min_seeds: int) -> str:
    values, diverged = _collect(runs, "adversarial_ls", "phi", 1.0, lambda r: None, min_seeds)
    ours = {alg: _mean_std(v.values()) for (alg, _), v in values.items()}
    seeds = {alg: _count(v, diverged.get((alg, None), set())) for (alg, _), v in values.items()}
    if not ours:
        raise AnalysisError("no finished adversarial_ls runs")
    rank = {alg: i + 1 for i, alg in enumerate(sorted(ours, key=lambda a: ours[a][0]))}
    paper_rank = {alg: i + 1 for i, alg in enumerate(sorted(PAPER_TABLE2,
                                                            key=lambda a: PAPER_TABLE2[a][0]))}
    rows = []
    for alg in _order(set(ours) | set(PAPER_TABLE2)):
        m = ours.get(alg)
        p = PAPER_TABLE2.get(alg)
        rows.append([alg.upper(),
                     f"{m[0]:.4g} ± {m[1]:.2g}" if m else "-",
                     seeds[alg] if m else "-",
                     str(rank[alg]) if m else "-",
                     f"{p[0]:.3f} ± {p[1]:.3f}" if p else "-",
                     str(paper_rank[alg]) if p else "-"])
    return markdown_table(["method", "phi (ours, mean ± std)", "seeds", "rank",
                           "paper MSE", "paper rank"], rows)


def table3(runs, min_seeds: int) -> str:
    values, diverged = _collect(runs, "hyperparam_logreg", "test_accuracy", 100.0, corruption,
                                min_seeds)
    if not values:
        raise AnalysisError("no finished hyperparam_logreg runs")
    ps = sorted({p for _, p in values}, reverse=True)
    methods = {alg for alg, _ in values}
    header = ["method"]
    for p in ps:
        header += [f"p = {p:g} (ours)", f"p = {p:g} (paper)"]
    rows = []
    for alg in _order(methods | set(PAPER_TABLE3)):
        row = [alg.upper()]
        for p in ps:
            v = values.get((alg, p))
            m = _mean_std(v.values()) if v else None
            count = _count(v or {}, diverged.get((alg, p), set()))
            row.append(f"{m[0]:.1f} ± {m[1]:.1f} ({count})" if m else "-")
            paper = PAPER_TABLE3.get(alg)
            row.append(f"{paper[PAPER_P.index(p)]:.1f}" if paper and p in PAPER_P else "-")
        rows.append(row)
    return markdown_table(header, rows)


def run(args) -> int:
    runs = load_runs(args.paths)
    parts = []
    if args.table in ("2", "both"):
        parts.append("Table 2: adversarial_ls, final phi(x) (paper: MSE on abalone)\n\n" +
                     table2(runs, args.min_seeds))
    if args.table in ("3", "both"):
        parts.append("Table 3: hyperparam_logreg, final test accuracy % (seeds in brackets; "
                     "paper: MNIST)\n\n" + table3(runs, args.min_seeds))
    if args.table == "gaps":
        parts.append("Table 2: distance to the optimum, phi* per instance by least squares\n\n"
                     + gap_tables(runs, Path(args.binary).resolve()))
    print("\n\n".join(parts))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tables", help="the IGFM paper's Tables 2 and 3 (ours beside the paper's)",
        description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", help="result files or directories")
    p.add_argument("--table", choices=("2", "3", "both", "gaps"), default="both",
                   help="gaps: Table 2's runs against phi* of their instances (exported by "
                        "the binary)")
    add_binary_argument(p, "--binary")
    p.add_argument("--min-seeds", type=int, default=5,
                   help="seeds every shown method needs (fewer: refused)")
    p.set_defaults(func=run)
