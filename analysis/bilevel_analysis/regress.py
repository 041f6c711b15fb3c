"""`bba regress`: performance regression check between two result sets.

Follows Google Benchmark's tools/compare.py: repetitions of a benchmark are samples, the
time change is the ratio of medians, and a two-sided Mann-Whitney U test decides whether
the change is more than noise. A regression is flagged only when the slowdown is both
large (> threshold) and significant (p < alpha), so a noisy but unchanged build does not
fail CI and a real slowdown does. Timings from different machines or rank counts are not
comparable, so such comparisons are refused unless explicitly allowed.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .common import AnalysisError, HelpFormatter, fmt_num, markdown_table, to_json
from .io import key_label, load_runs

#: Google Benchmark time_unit -> seconds.
GBENCH_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
#: Google Benchmark context keys that may carry the MPI rank count (custom context).
GBENCH_NRANKS_KEYS = ("nranks", "mpi_ranks", "mpi_size")


@dataclass
class Samples:
    """All repetitions of one benchmark in one result set."""

    name: str
    nranks: int | None
    times: list = field(default_factory=list)       # seconds per iteration
    objective: list = field(default_factory=list)   # final upper_objective
    accuracy: list = field(default_factory=list)    # final test_accuracy
    hosts: set = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.name if self.nranks is None else f"{self.name} np={self.nranks}"


@dataclass
class Comparison:
    label: str
    n_base: int
    n_cand: int
    t_base: float
    t_cand: float
    ratio: float
    pvalue: float
    d_objective: float   # relative change of the median final upper_objective
    d_accuracy: float    # absolute change of the median final test_accuracy
    verdict: str
    note: str = ""


def _median(values) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if finite else math.nan


def samples_from_runs(path: str, event: str | None) -> dict:
    """{(benchmark key, nranks): Samples} from HDF5 results (files or directories)."""
    out: dict = {}
    for run in load_runs([path]):
        nranks = run.attrs.get("nranks")
        key = (run.benchmark_key(), nranks)
        s = out.setdefault(key, Samples(key_label(key[0]), nranks))
        s.times.append(run.time_per_iteration(event))
        s.objective.append(run.final("upper_objective"))
        s.accuracy.append(run.final("test_accuracy"))
        s.hosts.add(str(run.attrs.get("hostname", "")))
    return out


def samples_from_gbench(path: str) -> dict:
    """{(name, nranks): Samples} from a Google Benchmark JSON file: the per-repetition
    entries (run_type 'iteration') are the samples; aggregates (mean, median…) are
    ignored because the test needs the raw repetitions."""
    try:
        data = json.loads(Path(path).read_text())
        benchmarks = data["benchmarks"]
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file or directory") from None
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"{path}: not a Google Benchmark JSON file ({exc})") from None
    context = data.get("context", {})
    host = str(context.get("host_name", ""))
    nranks = next((int(context[k]) for k in GBENCH_NRANKS_KEYS if k in context), None)
    out: dict = {}
    for b in benchmarks:
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        unit = b.get("time_unit", "ns")
        if unit not in GBENCH_UNITS:
            raise AnalysisError(f"{path}: {name}: unknown time_unit '{unit}'")
        s = out.setdefault((name, nranks), Samples(name, nranks))
        s.times.append(float(b["real_time"]) * GBENCH_UNITS[unit])
        s.hosts.add(host)
    if not out:
        raise AnalysisError(f"{path}: no benchmark repetitions (run_type 'iteration') found")
    return out


def load_side(path: str, event: str | None):
    """Samples of one side, and whether it came from Google Benchmark JSON."""
    is_json = Path(path).suffix.lower() == ".json"
    return (samples_from_gbench(path) if is_json else samples_from_runs(path, event)), is_json


def pair_up(base: dict, cand: dict, allow_different: bool):
    """Match benchmarks of the two sets; refuse different rank counts or hosts.

    Keys are (benchmark, nranks). When a benchmark ran on different rank counts and
    differences are allowed, a single rank count on each side is still paired.
    Returns (pairs, only_base, only_cand).
    """
    by_id = defaultdict(lambda: ([], []))
    for side, data in ((0, base), (1, cand)):
        for bench, nranks in data:
            by_id[bench][side].append(nranks)
    pairs, only_base, only_cand = [], [], []
    for bench, (nb, nc) in by_id.items():
        if not nb or not nc:
            (only_base if nb else only_cand).extend(
                (base if nb else cand)[(bench, n)].label for n in (nb or nc))
            continue
        if set(nb) == set(nc):
            matched = [(n, n) for n in nb]
        elif not allow_different:
            raise AnalysisError(
                f"refusing to compare {base[(bench, nb[0])].name}: "
                f"baseline ran with nranks {sorted(map(str, nb))}, candidate with "
                f"{sorted(map(str, nc))} (use --allow-different-machines)")
        elif len(nb) == 1 and len(nc) == 1:
            matched = [(nb[0], nc[0])]
        else:
            matched = [(n, n) for n in nb if n in nc]
            only_base += [base[(bench, n)].label for n in nb if n not in nc]
            only_cand += [cand[(bench, n)].label for n in nc if n not in nb]
        for n_b, n_c in matched:
            b, c = base[(bench, n_b)], cand[(bench, n_c)]
            if b.hosts != c.hosts and not allow_different:
                raise AnalysisError(
                    f"refusing to compare {b.label}: baseline ran on host(s) "
                    f"{', '.join(sorted(b.hosts))}, candidate on {', '.join(sorted(c.hosts))} "
                    f"(use --allow-different-machines)")
            pairs.append((b, c))
    return pairs, only_base, only_cand


def utest(a: list, b: list) -> float:
    """Two-sided Mann-Whitney U p-value; NaN with fewer than 2 samples on a side."""
    if min(len(a), len(b)) < 2:
        return math.nan
    if len(set(a) | set(b)) == 1:
        return 1.0  # identical samples: no evidence of any difference
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def compare(b: Samples, c: Samples, threshold: float, alpha: float) -> Comparison:
    """Ratio of median times, U-test p-value, objective/accuracy changes, verdict."""
    tb, tc = _median(b.times), _median(c.times)
    ratio = tc / tb if tb > 0 else math.nan
    p = utest(b.times, c.times)
    ob, oc = _median(b.objective), _median(c.objective)
    d_obj = (oc - ob) / abs(ob) if ob else oc - ob
    d_acc = _median(c.accuracy) - _median(b.accuracy)
    significant = p < alpha  # False for NaN
    if ratio > 1 + threshold:
        verdict = "REGRESSION" if significant else "slower (not significant)"
    elif ratio < 1 - threshold:
        verdict = "improvement" if significant else "faster (not significant)"
    else:
        verdict = "same"
    note = ""
    nb, nc = len(b.times), len(c.times)
    # The smallest two-sided p an exact U test can give is 2 / C(nb+nc, nb).
    if min(nb, nc) < 2 or 2.0 / math.comb(nb + nc, nb) >= alpha:
        note = (f"{b.label}: {nb} vs {nc} repetitions cannot reach p < {alpha:g}; "
                f"run more repetitions (>= 4 each for alpha 0.05)")
    return Comparison(b.label, nb, nc, tb, tc, ratio, p, d_obj, d_acc, verdict, note)


def run(args) -> int:
    if not 0 < args.alpha < 1:
        raise AnalysisError(f"--alpha {args.alpha:g}: must be in (0, 1)")
    base, base_json = load_side(args.baseline, args.event)
    cand, cand_json = load_side(args.candidate, args.event)
    if base_json != cand_json:
        raise AnalysisError("cannot compare Google Benchmark JSON with HDF5 results")
    pairs, only_base, only_cand = pair_up(base, cand, args.allow_different_machines)
    if not pairs:
        raise AnalysisError("no benchmark appears in both baseline and candidate")
    results = [compare(b, c, args.threshold, args.alpha) for b, c in pairs]
    n_reg = sum(r.verdict == "REGRESSION" for r in results)

    if args.json:
        print(to_json({"threshold": args.threshold, "alpha": args.alpha, "regressions": n_reg,
                       "comparisons": [vars(r) for r in results],
                       "only_baseline": only_base, "only_candidate": only_cand}))
    else:
        print(markdown_table(
            ["benchmark", "reps", "baseline [s/it]", "candidate [s/it]", "ratio", "p (U test)",
             "d objective (rel)", "d test acc", "verdict"],
            [[r.label, f"{r.n_base}/{r.n_cand}", r.t_base, r.t_cand, r.ratio, r.pvalue,
              r.d_objective, r.d_accuracy, r.verdict] for r in results]))
        notes = [r.note for r in results if r.note]
        notes += [f"only in baseline: {s}" for s in only_base]
        notes += [f"only in candidate: {s}" for s in only_cand]
        for n in notes:
            print(f"note: {n}")
        print(f"{n_reg} regression(s) (slowdown > {fmt_num(100 * args.threshold)}% "
              f"and p < {args.alpha:g})")
    return 1 if n_reg else 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "regress", help="compare two result sets for performance regressions",
        description="Compare time per iteration of a candidate against a baseline (result "
                    "directories/files, or two Google Benchmark JSON files). Runs are "
                    "grouped by problem, algorithm and options (without -output/-seed); "
                    "repetitions are samples for a two-sided Mann-Whitney U test. Exit 1 if "
                    "any benchmark is slower by more than the threshold with p < alpha, "
                    "2 on bad input or incomparable machines, else 0.",
        formatter_class=HelpFormatter)
    p.add_argument("baseline", help="baseline results (directory, .h5, or Google Benchmark .json)")
    p.add_argument("candidate", help="candidate results (same kind as baseline)")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="relative slowdown that counts as a regression")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test")
    p.add_argument("--event", help="compare this timing event's time per iteration instead "
                                   "of the total")
    p.add_argument("--allow-different-machines", action="store_true",
                   help="compare even if hostname or nranks differ")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
