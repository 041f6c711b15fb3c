"""`bba regress`: performance and numerical regression check between two result sets.

Time follows Google Benchmark's tools/compare.py: repetitions of a benchmark are samples, the
time change is the ratio of medians, and a two-sided Mann-Whitney U test decides whether
the change is more than noise. A regression is flagged only when the slowdown is both
large (> threshold) and significant (p < alpha), so a noisy but unchanged build does not
fail CI and a real slowdown does; 5 repetitions a side (benchmarks/campaigns/regression.toml)
is the fewest at which the exact test can reach p < 0.05 for every sample order.
Timings from different machines or rank counts are not comparable, so such comparisons are
refused unless explicitly allowed.

Numbers are deterministic for a given build, so they are compared against tolerances, not
tested: the final upper objective, the hypergradient error (-validate's, or the trace's
hypergrad_error) and the iterations until hypergrad_norm first meets a tolerance. A change
beyond the tolerance is flagged whatever its direction: a release that changes a result must
say why. The same check runs against committed reference values (--reference).
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


#: Share of a run's slowest outer iterations left out of its time per iteration: on a shared
#: machine a run is descheduled now and then, and those spikes, not the code, dominated the
#: spread between repetitions (10-20 % of the total time here under load, 4-6 % without the
#: slowest tenth of iterations). A change that slows more than this share still shows.
TRIM = 0.1

#: Numbers compared besides time, each with its default tolerance: (relative, absolute).
#: The objective's 1e-6 lies between round-off across builds (1e-12 here) and a change in the
#: 4th significant digit; the hypergradient error of a converged method is round-off itself,
#: so only changes above 1e-9 absolute count; iterations are integers.
NUMBERS = {"upper_objective": (1e-6, 0.0), "hypergrad_error": (0.1, 1e-9),
           "iterations_to_tol": (0.0, 0.0)}


def hypergrad_error(run) -> float:
    """-validate's relative error of the final hypergradient, else the trace's last
    hypergrad_error (-alg_check_exact), else NaN."""
    for source in (run.validation.get("error"), run.final("hypergrad_error")):
        if source is not None and math.isfinite(source):
            return float(source)
    return math.nan


def iterations_to_tol(run, tol: float) -> float:
    """Iterations done when hypergrad_norm first met tol (NaN if it never did)."""
    import numpy as np

    norm = run.trace.get("hypergrad_norm")
    if norm is None:
        return math.nan
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(norm <= tol)
    return float(hits[0] + 1) if len(hits) else math.nan


def trimmed_time_per_iteration(run) -> float:
    """Mean seconds of an outer iteration without the slowest TRIM of them (see TRIM)."""
    import numpy as np

    cumulative = run.metric("time")
    if len(cumulative) == 0:
        raise AnalysisError(f"{run.label}: empty trace, no iterations recorded")
    steps = np.sort(np.diff(np.concatenate([[0.0], cumulative])))
    keep = max(1, int(round(len(steps) * (1 - TRIM))))
    return float(np.mean(steps[:keep]))


def run_numbers(run, tol: float) -> dict:
    return {"upper_objective": run.final("upper_objective"), "hypergrad_error":
            hypergrad_error(run), "iterations_to_tol": iterations_to_tol(run, tol)}


def number_changed(base: float, cand: float, rel: float, abs_: float) -> bool:
    """Beyond tolerance; a value that appears or disappears (NaN on one side) is a change."""
    if math.isnan(base) and math.isnan(cand):
        return False
    if math.isnan(base) or math.isnan(cand):
        return True
    return abs(cand - base) > rel * abs(base) + abs_


@dataclass
class Samples:
    """All repetitions of one benchmark in one result set."""

    name: str
    nranks: int | None
    times: list = field(default_factory=list)       # seconds per iteration
    objective: list = field(default_factory=list)   # final upper_objective
    accuracy: list = field(default_factory=list)    # final test_accuracy
    hosts: set = field(default_factory=set)
    numbers: dict = field(default_factory=dict)     # {NUMBERS name: [value per repetition]}

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
    numbers: dict = field(default_factory=dict)  # {name: [baseline, candidate, changed]}
    changed: list = field(default_factory=list)  # names of the numbers beyond tolerance


def _median(values) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if finite else math.nan


def samples_from_runs(path: str, event: str | None, tol: float = 1e-6,
                      trim: bool = True) -> dict:
    """{(benchmark key, nranks): Samples} from HDF5 results (files or directories)."""
    out: dict = {}
    for run in load_runs([path]):
        nranks = run.attrs.get("nranks")
        key = (run.benchmark_key(), nranks)
        s = out.setdefault(key, Samples(key_label(key[0]), nranks))
        s.times.append(run.time_per_iteration(event) if event or not trim
                       else trimmed_time_per_iteration(run))
        s.objective.append(run.final("upper_objective"))
        s.accuracy.append(run.final("test_accuracy"))
        s.hosts.add(str(run.attrs.get("hostname", "")))
        for name, value in run_numbers(run, tol).items():
            s.numbers.setdefault(name, []).append(value)
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


def load_side(path: str, event: str | None, tol: float = 1e-6, trim: bool = True):
    """Samples of one side, and whether it came from Google Benchmark JSON."""
    is_json = Path(path).suffix.lower() == ".json"
    return (samples_from_gbench(path) if is_json else
            samples_from_runs(path, event, tol, trim)), is_json


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


def compare_numbers(base: dict, cand: dict, tolerances: dict) -> tuple[dict, list]:
    """{name: [baseline median, candidate median, changed]} and the names that changed."""
    table, changed = {}, []
    for name, (rel, abs_) in tolerances.items():
        b, c = _median(base.get(name, [])), _median(cand.get(name, []))
        moved = number_changed(b, c, rel, abs_)
        table[name] = [b, c, moved]
        changed += [name] if moved else []
    return table, changed


def compare(b: Samples, c: Samples, threshold: float, alpha: float,
            tolerances: dict = NUMBERS) -> Comparison:
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
    numbers, changed = compare_numbers(b.numbers, c.numbers, tolerances)
    return Comparison(b.label, nb, nc, tb, tc, ratio, p, d_obj, d_acc, verdict, note,
                      numbers, changed)


def parse_tolerances(specs: list) -> dict:
    tolerances = dict(NUMBERS)
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in NUMBERS:
            raise AnalysisError(f"--tolerance {spec!r}: the numbers are {', '.join(NUMBERS)}")
        try:
            rel, abs_ = (float(v) for v in values.split(","))
        except ValueError:
            raise AnalysisError(f"--tolerance {spec!r}: use NAME=RELATIVE,ABSOLUTE") from None
        tolerances[name] = (rel, abs_)
    return tolerances


def write_reference(path: Path, samples: dict, tolerances: dict, tol: float) -> int:
    """Reference values (medians over repetitions) and their tolerances, keyed by benchmark
    without the rank count: the numbers do not depend on it (docs/user-guide.md)."""
    benchmarks = {}
    for s in samples.values():
        benchmarks[s.name] = {n: _median(v) for n, v in s.numbers.items()}
    path.write_text(to_json({"iterations_tol": tol, "tolerances": tolerances,
                             "benchmarks": dict(sorted(benchmarks.items()))}) + "\n")
    print(f"{path}: reference values of {len(benchmarks)} benchmark(s)")
    return 0


def read_reference(path: Path) -> dict:
    try:
        ref = json.loads(Path(path).read_text())
        ref["tolerances"] = {n: tuple(v) for n, v in ref["tolerances"].items()}
        float(ref["iterations_tol"])
        dict(ref["benchmarks"])
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(f"{path}: not a reference file ({exc})") from None
    return ref


def check_reference(path: Path, ref: dict, samples: dict, as_json: bool) -> int:
    """Candidate numbers against committed reference values: exit 1 on any change beyond the
    file's tolerances, and on a benchmark missing from either side."""
    tolerances, expected = ref["tolerances"], ref["benchmarks"]
    none = {n: math.nan for n in tolerances}
    rows, failures = [], []
    seen = {s.name: s for s in samples.values()}
    for name in sorted(set(expected) | set(seen)):
        if name not in seen or name not in expected:
            failures.append(f"{name}: only in the {'reference' if name in expected else 'results'}")
            continue
        ref_values = {n: [none[n] if v is None else v] for n, v in expected[name].items()}
        table, changed = compare_numbers(ref_values, seen[name].numbers, tolerances)
        rows.append([name, *(fmt_num(table[n][1], 10) for n in tolerances),
                     ", ".join(changed) or "same"])
        failures += [f"{name}: {n} {fmt_num(table[n][0], 10)} -> {fmt_num(table[n][1], 10)}"
                     for n in changed]
    if as_json:
        print(to_json({"reference": str(path), "failures": failures}))
    else:
        print(markdown_table(["benchmark", *tolerances, "changed"], rows))
        for f in failures:
            print(f"CHANGED: {f}")
        print(f"{len(failures)} difference(s) from {path}")
    return 1 if failures else 0


def run(args) -> int:
    if not 0 < args.alpha < 1:
        raise AnalysisError(f"--alpha {args.alpha:g}: must be in (0, 1)")
    tolerances = parse_tolerances(args.tolerance)
    if args.write_reference or args.reference:
        if args.candidate is not None:
            raise AnalysisError("--reference/--write-reference take one result set")
        if args.write_reference:
            samples = samples_from_runs(args.baseline, args.event, args.tol)
            return write_reference(Path(args.write_reference), samples, tolerances, args.tol)
        ref = read_reference(Path(args.reference))  # its own tolerance for the iterations
        samples = samples_from_runs(args.baseline, args.event, ref["iterations_tol"])
        return check_reference(Path(args.reference), ref, samples, args.json)
    if args.candidate is None:
        raise AnalysisError("give BASELINE and CANDIDATE (or --reference FILE with one set)")
    base, base_json = load_side(args.baseline, args.event, args.tol, not args.total_time)
    cand, cand_json = load_side(args.candidate, args.event, args.tol, not args.total_time)
    if base_json != cand_json:
        raise AnalysisError("cannot compare Google Benchmark JSON with HDF5 results")
    pairs, only_base, only_cand = pair_up(base, cand, args.allow_different_machines)
    if not pairs:
        raise AnalysisError("no benchmark appears in both baseline and candidate")
    results = [compare(b, c, args.threshold, args.alpha, tolerances) for b, c in pairs]
    n_reg = sum(r.verdict == "REGRESSION" for r in results)
    n_changed = sum(bool(r.changed) for r in results) if not base_json else 0

    if args.json:
        print(to_json({"threshold": args.threshold, "alpha": args.alpha, "regressions": n_reg,
                       "number_changes": n_changed, "tolerances": tolerances,
                       "comparisons": [vars(r) for r in results],
                       "only_baseline": only_base, "only_candidate": only_cand}))
    else:
        print(markdown_table(
            ["benchmark", "reps", "baseline [s/it]", "candidate [s/it]", "ratio", "p (U test)",
             "d objective (rel)", "d test acc", "verdict", "numbers"],
            [[r.label, f"{r.n_base}/{r.n_cand}", r.t_base, r.t_cand, r.ratio, r.pvalue,
              r.d_objective, r.d_accuracy, r.verdict,
              ("CHANGED: " + ", ".join(r.changed)) if r.changed else "same"]
             for r in results]))
        notes = [r.note for r in results if r.note]
        notes += [f"{r.label}: {n} {fmt_num(r.numbers[n][0], 10)} -> "
                  f"{fmt_num(r.numbers[n][1], 10)} (tolerance rel {tolerances[n][0]:g}, abs "
                  f"{tolerances[n][1]:g})" for r in results for n in r.changed]
        notes += [f"only in baseline: {s}" for s in only_base]
        notes += [f"only in candidate: {s}" for s in only_cand]
        for n in notes:
            print(f"note: {n}")
        print(f"{n_reg} regression(s) (slowdown > {fmt_num(100 * args.threshold)}% "
              f"and p < {args.alpha:g}), {n_changed} benchmark(s) with changed numbers")
    return 1 if n_reg or n_changed else 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "regress", help="compare two result sets for performance and numerical regressions",
        description="Compare a candidate against a baseline (result directories/files, or two "
                    "Google Benchmark JSON files): time per iteration, with repetitions as "
                    "samples for a two-sided Mann-Whitney U test, and the numbers (final "
                    "objective, hypergradient error, iterations to --tol) against tolerances. "
                    "Runs are grouped by problem, algorithm and options (without "
                    "-output/-seed). Exit 1 if any benchmark is slower by more than the "
                    "threshold with p < alpha or any number changed beyond its tolerance, 2 on "
                    "bad input or incomparable machines, else 0. With --reference, one result "
                    "set's numbers are checked against committed values.",
        formatter_class=HelpFormatter)
    p.add_argument("baseline", help="baseline results (directory, .h5, or Google Benchmark "
                                    ".json); with --reference/--write-reference the results")
    p.add_argument("candidate", nargs="?", help="candidate results (same kind as baseline)")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="relative slowdown that counts as a regression")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test")
    p.add_argument("--event", help="compare this timing event's time per iteration instead "
                                   "of the total")
    p.add_argument("--total-time", action="store_true",
                   help="time per iteration from the total time, the slowest iterations "
                        "included (default: without the slowest 10 %%, the spikes of a shared "
                        "machine)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="hypergrad_norm tolerance for the iterations-to-tolerance number")
    p.add_argument("--tolerance", action="append", default=[], metavar="NAME=REL,ABS",
                   help="tolerance of a number (upper_objective, hypergrad_error, "
                        "iterations_to_tol); defaults: " + ", ".join(
                            f"{n}={r:g},{a:g}" for n, (r, a) in NUMBERS.items()))
    p.add_argument("--reference", metavar="JSON",
                   help="check the numbers of one result set against this reference file")
    p.add_argument("--write-reference", metavar="JSON",
                   help="write one result set's numbers and the tolerances as a reference")
    p.add_argument("--allow-different-machines", action="store_true",
                   help="compare even if hostname or nranks differ")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
