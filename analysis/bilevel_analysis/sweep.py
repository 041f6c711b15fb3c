"""`bbsweep` (`bba sweep`): generates (and submits) Slurm batch jobs for bilevelbench sweeps.

  bbsweep generate [options] [-- bilevelbench options]   write the sweep's .sbatch files
  bbsweep submit   [options] [-- bilevelbench options]   ... and sbatch them (--wait: until done)

Every job is jobs/templates/run.sbatch.in filled in from one set of variables; one job is one
run and writes one HDF5 file. A sweep lives in one directory, RESULTS/<sweep name>/, holding
its .sbatch files, job logs, result files and sweep.json (what was generated, and job ids).

Kinds:
  single      one run (--ranks N, or --nodes N --ranks-per-node R)
  strong      fixed global problem size, one run per entry of --ranks (e.g. 1,2,4,8)
  weak        fixed size per rank: each --weak-scale option's value is multiplied by the
              rank count (e.g. --weak-scale problem_n -- -problem_n 1000)
  regression  one run per line of --options-file (each line names -problem and -algorithm)
  campaign    the runs of a campaign, as `bba campaign run --slurm` writes them (--runs-file:
              a JSON list of {name, ranks, options}); names and files are the campaign's
Each run is repeated --repetitions times (separate jobs, files ending -r1, -r2, ...).

Jobs stop before their time limit (SIGTERM), save, and requeue themselves to resume from their
result file. Resubmitting a sweep redoes only its unfinished runs: a job leaves a completed,
converged or diverged result alone.

Requests above --max-nodes, --max-ranks or --max-time are refused: exit code 2, one line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from .common import AnalysisError
from .options import (REPO, add_binary_argument, check_reserved, option_value, scale_option,
                      without)

TEMPLATE = REPO / "jobs" / "templates" / "run.sbatch.in"
H5STATUS = REPO / "jobs" / "h5status"

# Slurm job states after which a job will not run again (anything else: keep waiting).
FINAL_STATES = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY",
                "BOOT_FAIL", "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"}


class Refused(AnalysisError):
    """A request the generator will not turn into jobs; reported as one line, exit code 2."""


def parse_time(text):
    """Slurm time limit ("M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S") -> seconds."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text.strip())
    if not m:
        raise Refused(f"time limit {text!r} is not a Slurm time (M, M:S, H:M:S, D-H:M:S)")
    days, a, b, c = (int(g) if g is not None else None for g in m.groups())
    if days is None:
        h, mi, s = (a, b, c) if c is not None else (0, a, b or 0)
    else:
        h, mi, s = a, b or 0, c or 0
    seconds = (((days or 0) * 24 + h) * 60 + mi) * 60 + s
    if seconds <= 0:
        raise Refused(f"time limit {text!r} must be positive")
    return seconds


def format_time(seconds):
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return (f"{d}-" if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def parse_ranks(text):
    try:
        ranks = [int(r) for r in text.split(",")]
    except ValueError:
        raise Refused(f"--ranks {text!r} is not a comma-separated list of integers") from None
    if not ranks or min(ranks) < 1:
        raise Refused(f"--ranks {text!r}: rank counts must be at least 1")
    return ranks


def label(options):
    """A short, file-name-safe tag for an option list: '-alg_tol 1e-3' -> 'alg_tol-1e-3'."""
    words = [re.sub(r"[^A-Za-z0-9_.+-]", "", re.sub(r"^-+(?=[A-Za-z_])", "", w)) for w in options]
    tag = "-".join(w for w in words if w)
    if len(tag) > 48:  # keep names readable; the hash keeps them distinct
        tag = tag[:39] + "-" + hashlib.sha1(" ".join(options).encode()).hexdigest()[:8]
    return tag


def campaign_runs(args, extra):
    """A campaign's runs, named and identified by `bba campaign` (repetitions included)."""
    if not args.runs_file:
        raise Refused("kind campaign needs --runs-file (written by bba campaign run --slurm)")
    if extra or args.repetitions != 1:
        raise Refused("kind campaign takes its options and repetitions from --runs-file")
    try:
        planned = json.loads(Path(args.runs_file).read_text())
        out = [{"name": r["name"], "ranks": int(r["ranks"]), "options": list(r["options"])}
               for r in planned]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise Refused(f"{args.runs_file}: not a campaign's runs file ({e})") from None
    for r in out:
        check_reserved(r["options"], f"{args.runs_file}: {r['name']}")
    if not out:
        raise Refused(f"{args.runs_file} lists no runs")
    return out


def runs(args, extra):
    """The sweep's runs: dicts with name, ranks and the program's options."""
    if args.kind == "campaign":
        return campaign_runs(args, extra)
    if args.kind == "regression":
        if not args.options_file:
            raise Refused("kind regression needs --options-file (one run per line)")
        check_reserved(extra, "options after --", owned={"-problem", "-algorithm"})
        cases = []
        for lineno, line in enumerate(Path(args.options_file).read_text().splitlines(), 1):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            where = f"{args.options_file}:{lineno}"
            check_reserved(words, where)
            problem, algorithm = option_value(words, "-problem"), option_value(words, "-algorithm")
            if not problem or not algorithm:
                raise Refused(f"{where}: each line needs -problem and -algorithm")
            rest = label(without(words, {"-problem", "-algorithm"}))
            cases.append(("-".join(t for t in (problem, algorithm, rest) if t), words + extra))
        if not cases:
            raise Refused(f"{args.options_file} lists no runs")
        points = [(tag, n, opts) for tag, opts in cases for n in single_ranks(args)]
    else:
        if not args.problem or not args.algorithm:
            raise Refused(f"kind {args.kind} needs --problem and --algorithm")
        check_reserved(extra, "options after --", owned={"-problem", "-algorithm"})
        base = ["-problem", args.problem, "-algorithm", args.algorithm] + extra
        tag = f"{args.problem}-{args.algorithm}"
        if args.kind == "single":
            points = [(tag, n, base) for n in single_ranks(args)]
        elif args.kind == "strong":
            points = [(tag, n, base) for n in sweep_ranks(args)]
        else:
            points = [(tag, n, weak_options(base, args.weak_scale, n)) for n in sweep_ranks(args)]
    out = []
    for tag, n, opts in points:
        for rep in range(1, args.repetitions + 1):
            suffix = f"-r{rep}" if args.repetitions > 1 else ""
            out.append({"name": f"{args.kind}-{tag}-n{n}{suffix}", "ranks": n, "options": opts})
    return out


def single_ranks(args):
    if args.ranks is not None:
        ranks = parse_ranks(args.ranks)
        if len(ranks) != 1:
            raise Refused(f"kind {args.kind} takes one rank count, not --ranks {args.ranks}")
        if args.nodes is not None and args.nodes != math.ceil(ranks[0] / rpn(args, ranks[0])):
            raise Refused(f"--nodes {args.nodes} does not fit --ranks {ranks[0]} at "
                          f"--ranks-per-node {rpn(args, ranks[0])}")
        return ranks
    if args.nodes is not None:
        if args.ranks_per_node is None:
            raise Refused("--nodes needs --ranks-per-node (or give --ranks)")
        return [args.nodes * args.ranks_per_node]
    return [1]


def sweep_ranks(args):
    if args.ranks is None:
        raise Refused(f"kind {args.kind} needs --ranks, e.g. --ranks 1,2,4,8")
    if args.nodes is not None:
        raise Refused(f"kind {args.kind} derives nodes from --ranks-per-node; drop --nodes")
    return parse_ranks(args.ranks)


def weak_options(options, scaled, n):
    if not scaled:
        raise Refused("kind weak needs --weak-scale OPTION (the per-rank size to multiply)")
    for name in scaled:
        options = scale_option(options, name, n, f"--weak-scale {name}")
    return options


def rpn(args, n):
    """Ranks per node for a run of n ranks: as asked, or all on one node."""
    return min(n, args.ranks_per_node or n)


def render(template, values):
    """Fills @NAME@ placeholders; a line whose value is None is left out. Every placeholder
    must be known and every value used, so template and generator cannot drift apart."""
    used, lines = set(), []
    for line in template.splitlines(keepends=True):
        names = re.findall(r"@([A-Z][A-Z0-9_]*)@", line)
        unknown = [n for n in names if n not in values]
        if unknown:
            raise SystemExit(f"bbsweep: {TEMPLATE}: unknown placeholder @{unknown[0]}@")
        used.update(names)
        if any(values[n] is None for n in names):
            continue
        lines.append(re.sub(r"@([A-Z][A-Z0-9_]*)@", lambda m: str(values[m.group(1)]), line))
    unused = set(values) - used
    if unused:
        raise SystemExit(f"bbsweep: {TEMPLATE} lacks @{sorted(unused)[0]}@")
    return "".join(lines)


def quote(words):
    return " ".join(shlex.quote(str(w)) for w in words)


def launch_line(args, n):
    if args.launcher == "srun":
        return ["srun", "--mpi=pmix", "-n", n]
    words = ["mpirun", "-n", n]
    if args.mpirun_local:
        # A test machine: root, and more ranks than cores (yield, or busy polling takes over).
        words += ["--allow-run-as-root", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]
    return words


def generate(args, extra):
    limit = parse_time(args.time)
    if args.max_time and limit > parse_time(args.max_time):
        raise Refused(f"--time {args.time} is above --max-time {args.max_time}")
    # Slurm signals the job this many seconds before its time limit; in a short job, halfway.
    lead = args.signal_lead if args.signal_lead < limit else limit // 2
    exe = Path(os.path.abspath(args.binary))
    if args.action == "submit" and not os.access(exe, os.X_OK):
        raise Refused(f"{exe} is not an executable (build it, or pass --exe)")
    sweep = Path(args.results_dir).resolve() / args.name
    planned = runs(args, extra)
    jobs = []
    for run in planned:
        n = run["ranks"]
        per_node = rpn(args, n)
        nodes = math.ceil(n / per_node)
        if args.max_ranks and n > args.max_ranks:
            raise Refused(f"{run['name']}: {n} ranks is above --max-ranks {args.max_ranks}")
        if args.max_nodes and nodes > args.max_nodes:
            raise Refused(f"{run['name']}: {nodes} nodes is above --max-nodes {args.max_nodes}")
        job = "bb-" + run["name"]
        jobs.append({
            "job_name": job, "sbatch": str(sweep / f"{job}.sbatch"),
            "output": str(sweep / f"{run['name']}.h5"), "ranks": n, "nodes": nodes,
            "ranks_per_node": per_node, "options": run["options"],
        })
    names = [j["job_name"] for j in jobs]
    if len(set(names)) != len(names):
        raise Refused("two runs of this sweep get the same name; vary their options")

    template = TEMPLATE.read_text()
    sweep.mkdir(parents=True, exist_ok=True)
    for old in sweep.glob("*.sbatch"):  # generated files only; results and logs stay
        old.unlink()
    for j in jobs:
        n = j["ranks"]
        text = render(template, {
            "JOB_NAME": j["job_name"], "PARTITION": args.partition, "NODES": j["nodes"],
            "RANKS": n, "RANKS_PER_NODE": j["ranks_per_node"], "TIME": format_time(limit),
            "LOG": shlex.quote(str(sweep / (j["job_name"] + "-%j.out"))),
            "SIGNAL_LEAD": lead,
            "EXTRA_SBATCH": "\n".join(f"#SBATCH {a}" for a in args.sbatch_arg) or None,
            "LAUNCHER": args.launcher, "LAUNCH": quote(launch_line(args, n)),
            "PROGRAM": quote([exe] + j["options"]), "OUTPUT": shlex.quote(j["output"]),
            "H5STATUS": shlex.quote(str(H5STATUS)), "MAX_REQUEUES": args.max_requeues,
        })
        Path(j["sbatch"]).write_text(text)
    manifest = {"sweep": args.name, "kind": args.kind, "executable": str(exe),
                "time_limit": format_time(limit), "launcher": args.launcher, "runs": jobs}
    write_manifest(sweep, manifest)
    return sweep, manifest


def write_manifest(sweep, manifest):
    (sweep / "sweep.json").write_text(json.dumps(manifest, indent=1) + "\n")


def squeue_states():
    """{job id: state} for our jobs Slurm still lists (finished ones until MinJobAge), or
    None when Slurm did not answer. (Asking for job ids instead fails once one is purged.)"""
    res = subprocess.run(["squeue", "--me", "--noheader", "--states=all", "--format=%i %T"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        return None
    return dict(line.split(None, 1) for line in res.stdout.splitlines() if line.strip())


def min_job_age():
    res = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True)
    m = re.search(r"^MinJobAge\s*=\s*(\d+)", res.stdout, re.M)
    return int(m.group(1)) if m else 300


def wait_for(ids, timeout):
    """Polls until every job is in a final state (or gone); returns {id: final state}.
    Polls at most every MinJobAge/2 seconds so that no job is purged unseen."""
    cap = max(1.0, min(30.0, min_job_age() / 2))
    interval, start, final = 1.0, time.monotonic(), {}
    while len(final) < len(ids):
        if timeout and time.monotonic() - start > timeout:
            pending = [i for i in ids if i not in final]
            raise SystemExit(f"bbsweep: jobs {','.join(pending)} not finished after {timeout} s")
        time.sleep(interval)
        interval = min(cap, interval * 2)
        states = squeue_states()
        if states is None:
            continue  # try again at the next poll
        for i in ids:
            if i in final:
                continue
            state = states.get(i)
            if state is None:
                final[i] = "PURGED"  # gone before we saw how it ended
            elif state in FINAL_STATES:
                final[i] = state
    return final


def submit(sweep, manifest, wait, timeout):
    jobs, ids = manifest["runs"], []
    for j in jobs:
        res = subprocess.run(["sbatch", "--parsable", j["sbatch"]], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"bbsweep: sbatch {j['sbatch']} failed: {res.stderr.strip()}")
        j["job_id"] = res.stdout.strip().split(";")[0]
        ids.append(j["job_id"])
        print(j["job_id"], j["sbatch"], flush=True)
    write_manifest(sweep, manifest)
    if not wait:
        return 0
    final = wait_for(ids, timeout)
    failed = 0
    for j in jobs:
        state = final[j["job_id"]]
        failed += state != "COMPLETED"
        print(j["job_id"], state, j["job_name"])
    return 1 if failed else 0


def add_arguments(p) -> None:
    p.add_argument("action", choices=["generate", "submit"])
    p.add_argument("--kind", choices=["single", "strong", "weak", "regression", "campaign"],
                   default="single")
    p.add_argument("--name", help="sweep name (default: KIND-PROBLEM-ALGORITHM, or the "
                   "options file's name for regression)")
    p.add_argument("--problem")
    p.add_argument("--algorithm")
    p.add_argument("--ranks", help="rank count, or comma-separated counts for strong/weak")
    p.add_argument("--nodes", type=int, help="single/regression: nodes (ranks = nodes x rpn)")
    p.add_argument("--ranks-per-node", type=int, help="default: every run on one node")
    p.add_argument("--time", default="00:10:00", help="time limit per job (Slurm format)")
    p.add_argument("--partition", help="default: the cluster's default partition")
    p.add_argument("--weak-scale", action="append", default=[], metavar="OPTION",
                   help="weak: bilevelbench size option multiplied by the rank count, "
                   "without its dash (problem_n) or as --weak-scale=-problem_n")
    p.add_argument("--options-file", help="regression: one run's bilevelbench options a line")
    p.add_argument("--runs-file", help="campaign: the runs (JSON) from bba campaign run --slurm")
    p.add_argument("--repetitions", type=int, default=1)
    p.add_argument("--launcher", choices=["srun", "mpirun"], default="srun",
                   help="srun --mpi=pmix (default), or mpirun inside the allocation")
    p.add_argument("--mpirun-local", action="store_true",
                   help="mpirun for a test machine: --allow-run-as-root --oversubscribe")
    p.add_argument("--signal-lead", type=int, default=120, metavar="SECONDS",
                   help="SIGTERM this long before the time limit, to stop, save and requeue "
                   "(default 120; half the limit if that is shorter). Slurm checks limits "
                   "every 30 s and may signal up to 30 s earlier")
    p.add_argument("--max-requeues", type=int, default=10,
                   help="stop requeueing an interrupted run after this many requeues")
    p.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="extra #SBATCH line, e.g. --sbatch-arg=--account=proj")
    p.add_argument("--max-nodes", type=int, help="refuse runs needing more nodes")
    p.add_argument("--max-ranks", type=int, help="refuse runs with more ranks")
    p.add_argument("--max-time", help="refuse time limits above this (Slurm format)")
    p.add_argument("--results-dir", default=str(REPO / "results"))
    add_binary_argument(p, "--exe", "--binary")
    p.add_argument("--wait", action="store_true", help="submit: wait until every job ended")
    p.add_argument("--timeout", type=float, help="--wait: give up after this many seconds")


USAGE = "%(prog)s {generate,submit} [options] [-- bilevelbench options]"


def execute(args, extra: list, words: list) -> int:
    """Generate (and submit) the sweep; ``extra`` are the bilevelbench options after "--",
    ``words`` the command's own words, for the submit line it prints."""
    if args.name is None:
        if args.kind == "campaign" and args.runs_file:
            args.name = Path(args.runs_file).resolve().parent.name
        elif args.kind == "regression" and args.options_file:
            args.name = f"regression-{Path(args.options_file).stem}"
        else:
            args.name = f"{args.kind}-{args.problem}-{args.algorithm}"
    try:
        if args.repetitions < 1:
            raise Refused("--repetitions must be at least 1")
        if args.ranks_per_node is not None and args.ranks_per_node < 1:
            raise Refused("--ranks-per-node must be at least 1")
        if args.signal_lead < 1:
            raise Refused("--signal-lead must be at least 1 second")
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", args.name):
            raise Refused(f"sweep name {args.name!r}: use letters, digits and _.+- only")
        sweep, manifest = generate(args, extra)
    except (AnalysisError, OSError) as e:
        print(f"bbsweep: refused: {e}", file=sys.stderr)
        return 2
    if args.action == "generate":
        for j in manifest["runs"]:
            print(j["sbatch"])
        print_next_steps(sweep, words)
        return 0
    return submit(sweep, manifest, args.wait, args.timeout)


def main(argv: list) -> int:
    """jobs/bbsweep: everything after "--" is bilevelbench's, passed through untouched."""
    cut = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(prog="bbsweep", description=__doc__, usage=USAGE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return execute(p.parse_args(argv[:cut]), argv[cut + 1:], argv)


def run(args) -> int:
    """bba sweep: the same command; bba's front end has split off the options after "--"."""
    return execute(args, args.program_options, args.own_words + ["--"] + args.program_options)


def print_next_steps(sweep, words):
    """What to do with the generated scripts (on stderr: stdout lists the scripts only)."""
    bba = REPO / "analysis" / "bba"
    i = words.index("generate")
    again = quote(["jobs/bbsweep"] + words[:i] + ["submit"] + words[i + 1:])
    print(f"""next steps:
  submit:   {again}   (or: for f in {sweep}/*.sbatch; do sbatch "$f"; done)
  watch:    squeue --me; tail -f {sweep}/*.out; jobs/h5status {sweep}/<run>.h5
  collect:  rerun the submit line: finished runs are left alone, interrupted ones resume
  compare:  {bba} compare {sweep} -o {sweep}/compare.html""", file=sys.stderr)


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="Slurm batch jobs for a sweep (as jobs/bbsweep)",
                              description=__doc__, usage=USAGE,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run, takes_program_options=True)
