"""`bba tuning`: which setting of each method did best in a tuning sweep.

A sweep's runs are grouped into variants as `bba compare` groups them (an algorithm and the
options that set its runs apart from the same algorithm's others); per problem and
algorithm, the variants are ranked by the median over the seeds that ran to the end
(completed, converged) of the metric's last finite value, higher first for accuracies, lower
first otherwise. A setting none of whose runs ran to the end (diverged, interrupted) ranks
last with its status shown: a setting that blows up is an answer of the sweep too.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .common import AnalysisError, HelpFormatter, markdown_table
from .compare import final_value, group_variants, higher_is_better, load, median_or_nan
from .status import RAN_TO_END


def ranked(variants: list, metric: str) -> list[tuple]:
    """(median final metric, variant) best first, variants without a value last."""
    scored = [(median_or_nan([final_value(r, metric) for r in v.runs
                              if r.attr("status") in RAN_TO_END]), v) for v in variants]
    sign = -1 if higher_is_better(metric) else 1
    return sorted(scored, key=lambda sv: (math.isnan(sv[0]),
                                          sign * sv[0] if not math.isnan(sv[0]) else 0))


def statuses(variant) -> str:
    counts = defaultdict(int)
    for r in variant.runs:
        counts[str(r.attr("status", "?"))] += 1
    return ", ".join(f"{n} {s}" if n > 1 else s for s, n in sorted(counts.items()))


def tuning_tables(paths, metric: str) -> str:
    runs, skipped = load(paths)
    runs = [r for r in runs if metric in r.trace]
    if not runs:
        raise AnalysisError(f"no run with metric '{metric}' among the files given")
    parts = []
    for problem, variants in group_variants(runs).items():
        by_algorithm = defaultdict(list)
        for v in variants:
            by_algorithm[v.algorithm].append(v)
        for algorithm, vs in sorted(by_algorithm.items()):
            rows = [[i, v.label, len(v.runs), statuses(v), value]
                    for i, (value, v) in enumerate(ranked(vs, metric), 1)]
            parts.append(f"{problem} / {algorithm}: final {metric}, best first\n\n"
                         + markdown_table(["rank", "setting", "runs", "status",
                                           f"{metric} (median)"], rows))
    parts += [f"skipped {path}: {why}" for path, why in skipped]
    return "\n\n".join(parts)


def run(args) -> int:
    print(tuning_tables(args.paths, args.metric))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("tuning", help="rank each method's settings in a tuning sweep",
                              description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories")
    p.add_argument("--metric", "-m", required=True,
                   help="trace metric to rank by (its last finite value), e.g. phi")
    p.set_defaults(func=run)
