"""`bba campaign`: a study described once in a TOML file, run here or on Slurm, resumable.

A campaign file (benchmarks/campaigns/*.toml, read with the standard ``tomllib``) lists
studies; each study is the product of its problems, algorithms, parameter grid, seeds and rank
counts, with fixed options, per-algorithm options and a per-run budget. Every run gets an
identity: a hash of the binary's content, the rank count and the whole option list, so a result
is never reused for another build or setting (a rebuilt binary reruns everything). The result
file is named after that identity; rerunning the campaign skips finished runs, resumes
interrupted ones with ``-restart_from`` and redoes broken ones. Problem, algorithm and option
names are checked against the binary (``-list``, ``-help``) before anything runs or is submitted.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import sweep
from .common import AnalysisError, HelpFormatter
from .model import KERNELS
from .options import REPO, add_binary_argument, option_value, scale_option
from .status import FINISHED, MISSING, RAN_TO_END, RESUMABLE, file_status

#: Written into every campaign's result directory: what was planned, for `bba compare`.
MANIFEST = "campaign.json"
#: Options the runner sets itself.
RUNNER_OPTIONS = {"output", "restart_from", "problem", "algorithm", "seed", "outer_iters",
                  "time_budget"}
STUDY_KEYS = {"name", "problem", "problems", "algorithm", "algorithms", "options", "grid",
              "seeds", "ranks", "budget", "algorithm_options", "weak_scale", "description",
              "repetitions", "model_kernel"}
#: PETSc's own options that -help does not list but every run accepts.
PETSC_GLOBAL = {"-log_view", "-options_file"}
#: Debian's OpenMPI as root, more ranks than cores, idle ranks yielding, no single-copy (CMA)
#: transport, which containers often forbid (docs/user-guide.md). The benchmark scripts launch
#: with it too.
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_mpi_yield_when_idle": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


@dataclass
class PlannedRun:
    study: str
    problem: str
    algorithm: str
    seed: int
    ranks: int
    words: list                 #: bilevelbench options, without -output/-restart_from
    variant: dict = field(default_factory=dict)  #: the grid point: what distinguishes it
    repetition: int = 1         #: timing repetitions of the same options (part of the id)
    model_kernel: str | None = None  #: bba model's --kernel for the study (bba compare)
    run_id: str = ""
    name: str = ""

    def as_json(self) -> dict:
        return {"id": self.run_id, "name": self.name, "file": self.name + ".h5",
                "study": self.study, "problem": self.problem, "algorithm": self.algorithm,
                "seed": self.seed, "ranks": self.ranks, "variant": self.variant,
                "repetition": self.repetition, "model_kernel": self.model_kernel,
                "options": self.words}


@dataclass
class Campaign:
    path: Path
    name: str
    title: str
    targets: dict
    runs: list


def toml_value(value) -> str:
    """A TOML value as bilevelbench reads it (PETSc booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise AnalysisError(f"option value {value!r}: use a number, string or boolean")


def _option_words(options: dict, where: str) -> list:
    words = []
    for name, value in options.items():
        if name.lstrip("-") in RUNNER_OPTIONS:
            raise AnalysisError(f"{where}: option '{name}' is set by the campaign itself "
                                f"(problems, algorithms, seeds, budget)")
        words += ["-" + name.lstrip("-"), toml_value(value)]
    return words


def _as_list(study: dict, one: str, many: str, where: str) -> list:
    value = study.get(many, study.get(one))
    if value is None:
        raise AnalysisError(f"{where}: give '{many}' (a list) or '{one}'")
    return value if isinstance(value, list) else [value]


def _tag(text) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "", str(text))


def expand_study(study: dict, defaults: dict, where: str) -> list:
    unknown = sorted(set(study) - STUDY_KEYS)
    if unknown:
        raise AnalysisError(f"{where}: unknown key '{unknown[0]}' (accepted: "
                            f"{', '.join(sorted(STUDY_KEYS))})")
    s = {**defaults, **study}
    name = s.get("name")
    if not name or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        raise AnalysisError(f"{where}: 'name' is required (letters, digits, _.+-)")
    problems = _as_list(s, "problem", "problems", where)
    algorithms = _as_list(s, "algorithm", "algorithms", where)
    seeds = s.get("seeds", [0])
    ranks = s.get("ranks", [1])
    budget = s.get("budget", {})
    unknown = sorted(set(budget) - {"iterations", "time"})
    if unknown:
        raise AnalysisError(f"{where}: budget key '{unknown[0]}' (accepted: iterations, time)")
    grid = s.get("grid", {})
    fixed = _option_words({**defaults.get("options", {}), **study.get("options", {})}, where)
    per_algorithm = s.get("algorithm_options", {})
    stray = sorted(set(per_algorithm) - set(algorithms))
    if stray:
        raise AnalysisError(f"{where}: algorithm_options for '{stray[0]}', which the study "
                            f"does not run")
    weak = [w.lstrip("-") for w in s.get("weak_scale", [])]
    repetitions = int(s.get("repetitions", 1))
    kernel = s.get("model_kernel")
    if kernel not in (None, *KERNELS):
        raise AnalysisError(f"{where}: model_kernel '{kernel}' (accepted: {', '.join(KERNELS)})")
    if repetitions < 1:
        raise AnalysisError(f"{where}: repetitions must be at least 1")
    runs = []
    names, values = list(grid), [v if isinstance(v, list) else [v] for v in grid.values()]
    for problem, algorithm, point, seed, n in itertools.product(
            problems, algorithms, itertools.product(*values), seeds, ranks):
        variant = dict(zip(names, point))
        words = ["-problem", problem, "-algorithm", algorithm, "-seed", str(seed)]
        if "iterations" in budget:
            words += ["-outer_iters", str(budget["iterations"])]
        if "time" in budget:
            words += ["-time_budget", str(budget["time"])]
        words += fixed
        words += _option_words(per_algorithm.get(algorithm, {}), f"{where}: {algorithm}")
        words += _option_words(variant, f"{where}: grid")
        for opt in weak:  # weak scaling: the per-rank size times the rank count
            words = scale_option(words, opt, int(n), f"{where}: weak_scale")
        runs += [PlannedRun(name, problem, algorithm, int(seed), int(n), words, variant, rep,
                            kernel) for rep in range(1, repetitions + 1)]
    return runs


def load_campaign(path: Path) -> Campaign:
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"campaign", "defaults", "targets", "study"})
    if unknown:
        raise AnalysisError(f"{path}: unknown table '{unknown[0]}' (accepted: campaign, "
                            f"defaults, targets, study)")
    head = data.get("campaign", {})
    name = head.get("name", Path(path).stem)
    studies = data.get("study", [])
    if not studies:
        raise AnalysisError(f"{path}: no [[study]] tables")
    runs = []
    for i, study in enumerate(studies):
        runs += expand_study(study, data.get("defaults", {}), f"{path}: study {i + 1}")
    return Campaign(Path(path), name, head.get("title", name), data.get("targets", {}), runs)


def binary_id(binary: Path) -> str:
    """The binary's version for run identities: a hash of its content, so a rebuild that
    changes anything changes every run's identity."""
    h = hashlib.sha256()
    with open(binary, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def assign_ids(campaign: Campaign, build: str) -> None:
    """Identity and file name of every run. Two studies may plan the same run (a weak-scaling
    point that is also a strong-scaling one): it runs once, and both use its file."""
    seen = {}
    for run in campaign.runs:
        ident = hashlib.sha256(
            f"{build}\n{run.ranks}\n{run.repetition}\n{shlex.join(run.words)}".encode())
        run.run_id = ident.hexdigest()[:10]
        tag = "-".join(_tag(f"{k}{v}") for k, v in run.variant.items())
        rep = f"r{run.repetition}" if run.repetition > 1 else ""
        parts = [run.study, run.problem, run.algorithm, tag, f"s{run.seed}", f"n{run.ranks}",
                 rep, run.run_id]
        run.name = seen.setdefault(run.run_id, "-".join(p for p in parts if p))


def unique_runs(campaign: Campaign) -> list:
    """Each run once (two studies may share one), repetitions outermost: a slow spell of the
    machine then hits every benchmark once rather than all repetitions of one, which would
    look like a regression. Seeds next, for the same reason, and so that a campaign stopped
    early has every method at its first seeds rather than some methods at none."""
    unique = list({r.name: r for r in campaign.runs}.values())
    return sorted(unique, key=lambda r: (r.repetition, r.seed))


# --- checks against the binary ---------------------------------------------------------------

def _binary_output(binary: Path, args: list) -> str:
    res = subprocess.run([str(binary)] + args, capture_output=True, text=True,
                         env={**os.environ, **MPI_ENV})
    if res.returncode != 0:
        msg = (res.stderr.strip() or res.stdout.strip()).splitlines()
        raise AnalysisError(f"{binary} {' '.join(args)}: {msg[-1] if msg else res.returncode}")
    return res.stdout


def _listed(text: str, heading: str) -> set:
    block = text.split(heading + ":", 1)[1] if heading + ":" in text else ""
    names = set()
    for line in block.splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        if line.strip():
            names.add(line.split()[0])
    return names


def _compatibility(text: str) -> dict:
    """{(problem, algorithm): 'x' runs, 'w' only with -allow_weaker_convexity, '.' refused}
    from -list's matrix (rows of marks under numbered algorithm columns, then the legend)."""
    if "Compatibility" not in text:
        return {}
    lines = text.split("Compatibility", 1)[1].splitlines()[2:]
    legend = dict(re.findall(r"(\d+) (\S+?)(?:,|$)", lines[-1])) if lines else {}
    matrix = {}
    for line in lines[:-1]:
        words = line.split()
        marks = words[1:1 + len(legend)]
        for i, mark in enumerate(marks, 1):
            matrix[(words[0], legend.get(str(i)))] = mark
    return matrix


def _unknown(name: str, known, what: str) -> AnalysisError:
    close = difflib.get_close_matches(name, sorted(known), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return AnalysisError(f"{what} '{name}' is not known to the binary{hint}")


def check_names(campaign: Campaign, binary: Path) -> None:
    """Every problem, algorithm and option the campaign uses exists in this binary: a typo is
    found before the first run, not hours into the campaign."""
    listing = _binary_output(binary, ["-list"])
    problems, algorithms = _listed(listing, "Problems"), _listed(listing, "Algorithms")
    matrix = _compatibility(listing)
    helps = {}
    for run in campaign.runs:
        if run.problem not in problems:
            raise _unknown(run.problem, problems, f"study {run.study}: problem")
        if run.algorithm not in algorithms:
            raise _unknown(run.algorithm, algorithms, f"study {run.study}: algorithm")
        pair = (run.problem, run.algorithm)
        mark = matrix.get(pair)
        weaker = option_value(run.words, "-allow_weaker_convexity") == "true"
        if mark == "." or (mark == "w" and not weaker):
            hint = (" unless allow_weaker_convexity = true (the run is then invalid)"
                    if mark == "w" else "")
            raise AnalysisError(f"study {run.study}: the binary refuses {run.algorithm} on "
                                f"{run.problem}{hint} (bilevelbench -list shows which pairs run)")
        if pair not in helps:
            text = _binary_output(binary, ["-help", "-problem", run.problem,
                                           "-algorithm", run.algorithm])
            helps[pair] = {line.split()[0] for line in text.splitlines()
                           if line.startswith("  -")}
        known = helps[pair] | PETSC_GLOBAL
        # PETSc objects' own options (-alg_ksp_monitor, ...) share the prefix of their type.
        prefixes = tuple(o[:-len("type")] for o in known if o.endswith("_type"))
        for word in run.words:
            if re.match(r"-[A-Za-z_]", word) and word not in known and not word.startswith(
                    prefixes):
                raise _unknown(word, known, f"study {run.study} ({run.problem}/"
                                            f"{run.algorithm}): option")


# --- running -----------------------------------------------------------------------------------

class Stop(Exception):
    """The runner was signalled: the current run saved its state; stop the campaign."""


def _forward(proc: subprocess.Popen, signum: int) -> None:
    """Send the signal to mpiexec's ranks, not to mpiexec: Open MPI's launcher answers a
    SIGTERM with its own kill sequence, which would not let the ranks save."""
    res = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    children = [int(p) for p in res.stdout.split()]
    for pid in children or [proc.pid]:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def run_one(run: PlannedRun, out: Path, binary: Path, mpiexec: str, log) -> str:
    path = out / (run.name + ".h5")
    status = file_status(path)
    if status in FINISHED:
        return "skipped"
    if status in RESUMABLE:
        start, what = ["-restart_from", str(path)], f"resume ({status})"
    else:
        if path.exists():
            path.replace(path.with_suffix(".h5.prev"))  # kept for a post-mortem
        start, what = ["-output", str(path)], "run" if status == MISSING else f"rerun ({status})"
    cmd = [mpiexec, "-n", str(run.ranks), str(binary)] + run.words + start
    print(f"{what}: {run.name}", file=log, flush=True)
    with open(out / (run.name + ".log"), "a") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=err, env={**os.environ, **MPI_ENV})
        stopping = []

        def handler(signum, _frame):
            stopping.append(signum)
            _forward(proc, signum)

        old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            rc = proc.wait()  # a handled signal does not end the wait (PEP 475)
        finally:
            for s, h in old.items():
                signal.signal(s, h)
    if stopping:
        raise Stop(run.name)
    status = file_status(path)
    if status not in FINISHED:  # say why, from the run's own last line
        lines = (out / (run.name + ".log")).read_text(errors="replace").strip().splitlines()
        why = next((line for line in reversed(lines) if line.startswith("bilevelbench")), "")
        status += f" ({why})" if why else ""
    return f"exit {rc}, {status}"


def write_manifest(campaign: Campaign, out: Path, binary: Path, build: str) -> None:
    manifest = {"campaign": campaign.name, "title": campaign.title,
                "file": str(campaign.path), "binary": str(binary), "binary_id": build,
                "targets": campaign.targets, "runs": [r.as_json() for r in campaign.runs]}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def run_local(campaign: Campaign, out: Path, binary: Path, mpiexec: str) -> int:
    counts = {"skipped": 0, "ran": 0, "failed": 0}
    unique = unique_runs(campaign)
    try:
        for i, run in enumerate(unique, 1):
            outcome = run_one(run, out, binary, mpiexec, sys.stdout)
            if outcome == "skipped":
                counts["skipped"] += 1
                continue
            final = outcome.split(", ", 1)[1]
            counts["ran" if final in FINISHED else "failed"] += 1
            print(f"  [{i}/{len(unique)}] {outcome}", flush=True)
    except Stop as stop:
        print(f"stopped by a signal during {stop}; rerun the same command to resume it",
              flush=True)
        return 3
    print(f"{campaign.name}: {counts['ran']} run, {counts['skipped']} already done, "
          f"{counts['failed']} not finished (rerun to retry); results in {out}")
    return 1 if counts["failed"] else 0


def run_slurm(campaign: Campaign, out: Path, binary: Path, extra: list) -> int:
    """Hand the runs to bbsweep (kind campaign): one job per run, writing the same file
    names as a local run, so either can resume what the other started."""
    runs_file = out / "runs.json"
    runs_file.write_text(json.dumps([{"name": r.name, "ranks": r.ranks, "options": r.words}
                                     for r in unique_runs(campaign)], indent=1) + "\n")
    words = ["submit", "--kind", "campaign", "--runs-file", str(runs_file), "--name", out.name,
             "--results-dir", str(out.parent), "--exe", str(binary)] + extra
    print(shlex.join(["jobs/bbsweep"] + words), flush=True)
    return sweep.main(words)


def print_files(campaign: Campaign, out: Path) -> int:
    """The result files of the selected studies that ran to the end, one a line: the input of
    an analysis step (bba model, scaling, tables) for one study of this build's results."""
    done = [out / (r.name + ".h5") for r in unique_runs(campaign)]
    done = [p for p in done if file_status(p) in RAN_TO_END]
    if not done:
        raise AnalysisError(f"{out}: none of the {len(unique_runs(campaign))} selected runs has "
                            f"finished with this binary (bba campaign plan shows their state)")
    print("\n".join(map(str, done)))
    return 0


def selected(campaign: Campaign, studies: list | None) -> Campaign:
    """The campaign restricted to some studies. Names are given before (assign_ids): a run
    two studies share keeps the one file name whichever of them is selected."""
    if not studies:
        return campaign
    known = {r.study for r in campaign.runs}
    unknown = sorted(set(studies) - known)
    if unknown:
        raise AnalysisError(f"--study {unknown[0]}: the campaign's studies are "
                            f"{', '.join(sorted(known))}")
    return dataclasses.replace(campaign, runs=[r for r in campaign.runs if r.study in studies])


def run(args) -> int:
    whole = load_campaign(Path(args.file))
    binary = Path(args.binary).resolve()
    if not os.access(binary, os.X_OK):
        raise AnalysisError(f"{binary}: not an executable (build it, or pass --binary)")
    build = binary_id(binary)
    assign_ids(whole, build)
    campaign = selected(whole, args.study)
    out = Path(args.output or REPO / "results" / "campaigns" / campaign.name).resolve()
    if args.action == "files":
        return print_files(campaign, out)
    check_names(campaign, binary)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(whole, out, binary, build)  # every study, for bba compare's grouping
    if args.action == "plan":
        unique = unique_runs(campaign)
        for r in unique:
            print(f"{file_status(out / (r.name + '.h5')):12} n={r.ranks} {r.name}")
        print(f"{len(unique)} runs; binary {build}; results in {out}")
        return 0
    if args.slurm:
        return run_slurm(campaign, out, binary, args.bbsweep_option)
    return run_local(campaign, out, binary, args.mpiexec)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "campaign", help="run a benchmark campaign (TOML) here or on Slurm, resumably",
        description="Expand a campaign file into runs, check every name against the binary, "
                    "and run what is not finished: here with mpiexec, or as Slurm jobs through "
                    "jobs/bbsweep (--slurm). Rerunning skips finished runs and resumes "
                    "interrupted ones. 'plan' lists the runs and their state; 'files' prints "
                    "the result files that ran to the end (for bba model, scaling, tables: "
                    "one study with --study). Exit 0 when every run finished, 1 when some did "
                    "not, 3 when stopped by a signal.",
        formatter_class=HelpFormatter)
    p.add_argument("action", choices=["run", "plan", "files"])
    p.add_argument("file", help="campaign file (benchmarks/campaigns/*.toml)")
    p.add_argument("-o", "--output", help="result directory (default: "
                                          "results/campaigns/<campaign name>)")
    add_binary_argument(p, "--binary")
    p.add_argument("--study", action="append", metavar="NAME",
                   help="only this study (repeatable); default: all")
    p.add_argument("--mpiexec", default="mpiexec", help="MPI launcher for local runs")
    p.add_argument("--slurm", action="store_true",
                   help="submit the runs as Slurm jobs through jobs/bbsweep")
    p.add_argument("--bbsweep-option", action="append", default=[], metavar="ARG",
                   help="--slurm: an option passed on to bbsweep (e.g. --bbsweep-option=--wait)")
    p.set_defaults(func=run)
