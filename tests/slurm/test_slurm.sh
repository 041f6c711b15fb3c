#!/usr/bin/env bash
# End-to-end test of the batch jobs in jobs/ on a real single-node Slurm (tests/slurm/slurm-local):
#   1. a run that Slurm's time-limit warning (#SBATCH --signal) stops: SIGTERM -> status
#      interrupted, exit code 3 -> requeue -> resumed from its file -> completed (srun);
#   2. the same chain with the SIGTERM sent by `scancel --batch --signal=TERM`, the route the
#      warning takes, at a moment the test picks (mpirun);
#   3. strong-scaling sweeps over 1 and 2 ranks, one launched with srun, one with mpirun;
#   4. a run signalled (`scancel --batch --signal=TERM`) in the middle of an outer iteration,
#      inside its inner solve, requeued and resumed: its trace must equal that of the same run
#      made in one go (every column but the timings, to 1e-12 relative), which holds only if
#      the stop kept every piece of state a step depends on;
# all submitted with `jobs/bbsweep submit --wait`; then checks every result file with h5py.
# Then a small campaign (tests/slurm/campaign.toml) through Slurm, `bba campaign run
# --slurm`: cancelled (scancel of its jobs) a second into its first runs, run again through
# Slurm to finish it, and compared with the same campaign run here in one go: the same result
# files, every one finished alike, the same iterations and final objectives.
# Runs 1 and 2 are sized in seconds (-time_budget, algorithm time summed over restarts), not
# iterations, so that they last long enough whatever the program's speed.
#
# The program is $BILEVELBENCH (default: build/bilevelbench). What it runs:
#   BB_TEST_PROBLEM, BB_TEST_ALGORITHM   default quadratic, aid
#   BB_TEST_OPTIONS                      more options for every run; default -problem_ny 20000
#                                        (iterations of milliseconds keep the traces small)
#   BB_TEST_ITERS                        outer iterations of the sweep runs (default 5)
# BB_TEST_KEEP=1 keeps the work directory (job logs, results, Slurm logs) after a success too.
# Exit code 77 (skip) when the Slurm binaries are missing. Needs root, as slurm-local does.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
exe=${BILEVELBENCH:-$repo/build/bilevelbench}
problem=${BB_TEST_PROBLEM:-quadratic}
algorithm=${BB_TEST_ALGORITHM:-aid}
default_options="-problem_ny 20000"
read -r -a extra <<<"${BB_TEST_OPTIONS-$default_options}"
iters=${BB_TEST_ITERS:-5}
signal_budget=8     # seconds; run 2 is signalled 2 s after it starts
timelimit_budget=35 # seconds; over Slurm's 30 s time-limit check period, see below
many=100000000      # outer iterations for the runs sized by -time_budget
timeout=180         # seconds any one sweep may take

for bin in slurmctld slurmd munged mungekey sbatch srun scontrol scancel squeue sinfo; do
  if ! command -v "$bin" >/dev/null; then
    echo "SKIP: $bin not found (Slurm is package slurm-wlm)"
    exit 77
  fi
done
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ -x "$exe" ] || fail "no executable $exe (build it, or set BILEVELBENCH)"
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")

work=$(mktemp -d -t bb-slurm-test.XXXXXX)
chmod 0711 "$work" # munged (user munge) keeps its socket below it
results=$work/results
waiters=()
cleanup() {
  local rc=$? pid
  for pid in "${waiters[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  if [ -f "$work/slurm/slurm.conf" ]; then
    "$here/slurm-local" stop "$work/slurm" || rc=1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "test_slurm: failed; job logs, results and Slurm logs kept in $work" >&2
  elif [ "${BB_TEST_KEEP:-0}" = 1 ]; then
    echo "test_slurm: job logs, results and Slurm logs kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

t0=$SECONDS
elapsed() { echo "[$((SECONDS - t0)) s] $*"; }

env=$("$here/slurm-local" start "$work/slurm")
eval "$env"
elapsed "Slurm up (SLURM_CONF=$SLURM_CONF)"

# Submits one sweep and waits for it in the background; stdout (job ids, final states) to $1.
# Returns once its first job is queued, so that jobs queue (and run) in the order submitted.
sweep() {
  local log=$1
  shift
  "$repo/jobs/bbsweep" submit --wait --timeout "$timeout" --results-dir "$results" \
    --exe "$exe" --mpirun-local --problem "$problem" --algorithm "$algorithm" "$@" >"$log" &
  waiters+=("$!")
  until [ -s "$log" ]; do
    kill -0 "$!" 2>/dev/null || fail "bbsweep submit $* failed"
    sleep 0.05
  done
}

# Run 2 goes first: while it waits out its requeue delay, the others use the node.
sweep "$work/signal.txt" --name signal-mpirun --launcher mpirun --ranks 2 \
  -- -outer_iters "$many" -time_budget "$signal_budget" "${extra[@]}"
# Run 4 and its reference, sized in iterations (the traces are compared row by row): each
# iteration of quadratic/aid is 300 inner gradient steps and a CG solve, most of its time in
# the inner loop. Fixed here, whatever BB_TEST_PROBLEM says.
inner_run=(--problem quadratic --algorithm aid --launcher mpirun --ranks 2 -- -problem_ny 100000
  -alg_inner_iters 300 -outer_iters 12 -flush_interval 0)
sweep "$work/inner.txt" --name inner-signal "${inner_run[@]}"
sweep "$work/inner-reference.txt" --name inner-reference "${inner_run[@]}"
# Slurm checks time limits every 30 s and sends the warning at the first check where at most
# lead + 30 s are left: with a 1-minute limit and a 30 s lead, within 30 s of the start. A run
# of 35 s is sure to meet it, and is resumed (perhaps more than once) until it is done.
sweep "$work/timelimit.txt" --name timelimit-srun --launcher srun --ranks 2 --time 1 \
  --signal-lead 30 -- -outer_iters "$many" -time_budget "$timelimit_budget" "${extra[@]}"
for launcher in srun mpirun; do
  sweep "$work/strong-$launcher.txt" --name "strong-$launcher" --launcher "$launcher" \
    --kind strong --ranks 1,2 --time 5 -- -outer_iters "$iters" "${extra[@]}"
done

# Stop run 2 once it has been running for 2 s.
signal_file=$results/signal-mpirun/single-$problem-$algorithm-n2.h5
deadline=$((SECONDS + timeout))
until [ "$("$repo/jobs/h5status" "$signal_file")" = running ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run 2 did not start writing $signal_file"
  sleep 0.1
done
sleep 2
status=$("$repo/jobs/h5status" "$signal_file")
[ "$status" = running ] || fail "run 2 is $status before the test could interrupt it"
read -r signal_job _ <"$work/signal.txt"
scancel --batch --signal=TERM "$signal_job" || fail "scancel could not signal job $signal_job"
elapsed "sent SIGTERM to the batch shell of job $signal_job"

# Stop run 4 0.3 s into its third iteration, once two rows are flushed.
inner_file=$results/inner-signal/single-quadratic-aid-n2.h5
rows_of() {
  HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 -c '
import sys, h5py
try:
    with h5py.File(sys.argv[1], "r", locking=False) as f:
        print(f["trace/iteration"].shape[0] if "trace/iteration" in f else 0)
except (OSError, KeyError):
    print(0)' "$1"
}
until [ "$(rows_of "$inner_file")" -ge 2 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run 4 did not flush two rows into $inner_file"
  sleep 0.05
done
sleep 0.3
read -r inner_job _ <"$work/inner.txt"
scancel --batch --signal=TERM "$inner_job" || fail "scancel could not signal job $inner_job"
elapsed "sent SIGTERM to job $inner_job inside its iteration $(rows_of "$inner_file")"

for pid in "${waiters[@]}"; do
  wait "$pid" || fail "a sweep did not complete; see $work/*.txt and the job logs"
done
waiters=()
elapsed "all jobs done:"
cat "$work"/*.txt

# The campaign through Slurm (bba campaign run --slurm: one job per run, via bbsweep's
# campaign kind), on a node the sweeps above have left free.
campaign=$here/campaign.toml
camp=$results/campaign-tiny
bba() { /usr/bin/python3 "$repo/analysis/bba" "$@"; }
slurm_campaign() { # log file: submit the campaign's unfinished runs and wait for their jobs
  bba campaign run "$campaign" --slurm -o "$camp" --binary "$exe" \
    --bbsweep-option=--wait --bbsweep-option=--timeout="$timeout" \
    --bbsweep-option=--launcher=mpirun --bbsweep-option=--mpirun-local \
    --bbsweep-option=--time=5 >"$1" 2>&1
}
started() { # a run of the campaign has created its result file (a test as cheap as can be:
  # under load, polling with h5py let the runs end before the cancel)
  compgen -G "$camp/*.h5" >/dev/null
}
slurm_campaign "$work/campaign-cancelled.txt" &
campaign_pid=$!
waiters+=("$campaign_pid")
deadline=$((SECONDS + timeout))
until started; do
  [ "$SECONDS" -lt "$deadline" ] || fail "campaign: no run started: $(cat "$work/campaign-cancelled.txt")"
  sleep 0.05
done
# bbsweep prints "<job id> <script>" for each job it submits.
jobs_of() { awk '$2 ~ /[.]sbatch$/ {print $1}' "$1"; }
until [ "$(jobs_of "$work/campaign-cancelled.txt" | wc -l)" -eq 3 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "campaign: not 3 jobs: $(cat "$work/campaign-cancelled.txt")"
  sleep 0.05
done
mapfile -t campaign_jobs < <(jobs_of "$work/campaign-cancelled.txt")
sleep 1 # into the runs' iterations (each lasts several seconds)
scancel "${campaign_jobs[@]}" || fail "scancel of the campaign's jobs failed"
if wait "$campaign_pid"; then
  fail "campaign: bba campaign run --slurm --wait did not report the cancelled jobs"
fi
waiters=()
# The cancelled jobs end (KillWait, then their scripts' own exit) before the next submission
# may touch their files.
active() { squeue --me --noheader --format=%i | grep -qxF -f <(printf '%s\n' "${campaign_jobs[@]}"); }
while active; do
  [ "$SECONDS" -lt "$deadline" ] || fail "campaign: cancelled jobs still listed"
  sleep 0.5
done
statuses=$(for f in "$camp"/*.h5; do [ ! -f "$f" ] || "$repo/jobs/h5status" "$f"; done | sort |
  uniq -c | tr -s ' \n' ' ')
elapsed "campaign cancelled; its result files:${statuses:- none}"
# The runs under way saved their state and stayed cancelled (the job script once requeued
# them, undoing the cancel); the pending one never ran.
grep -q "interrupted" <<<"$statuses" ||
  fail "campaign: no run was cancelled in the middle (result files:${statuses:- none})"

slurm_campaign "$work/campaign-resumed.txt" ||
  fail "campaign: the second submission did not finish it: $(cat "$work/campaign-resumed.txt")"
elapsed "campaign resumed through Slurm"
# The same campaign here in one go (the same binary: the same run identities and file names);
# and here the Slurm one has nothing left to do.
bba campaign run "$campaign" -o "$results/campaign-whole" --binary "$exe" >"$work/campaign-whole.txt" ||
  fail "campaign: the uninterrupted local run failed: $(cat "$work/campaign-whole.txt")"
bba campaign run "$campaign" -o "$camp" --binary "$exe" >"$work/campaign-local.txt" ||
  fail "campaign: a local rerun after Slurm failed: $(cat "$work/campaign-local.txt")"
grep -q "0 run, 3 already done" "$work/campaign-local.txt" ||
  fail "campaign: Slurm left runs to do: $(cat "$work/campaign-resumed.txt" "$work/campaign-local.txt")"
HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 - "$camp" "$results/campaign-whole" <<'EOF' ||
import sys
from pathlib import Path

import h5py
import numpy as np


def results(d):
    out = {}
    for p in sorted(Path(d).glob("*.h5")):
        with h5py.File(p, "r") as f:
            status, history = (a.decode() if isinstance(a, bytes) else str(a)
                               for a in (f.attrs["status"], f.attrs["options_history"]))
            out[p.name] = (status, f["trace/iteration"][()], f["trace/upper_objective"][-1],
                           len(history.splitlines()))
    return out


resumed, whole = results(sys.argv[1]), results(sys.argv[2])
errors = []
if sorted(resumed) != sorted(whole) or len(whole) != 3:
    errors.append(f"files differ: {sorted(resumed)} against {sorted(whole)}")
for name in sorted(set(resumed) & set(whole)):
    a, b = resumed[name], whole[name]
    print(f"campaign {name}: {a[0]}, {len(a[1])} rows, {a[3]} start(s); final objective "
          f"{a[2]:.15g} (in one go {b[2]:.15g})")
    if a[0] not in ("completed", "converged") or a[0] != b[0]:
        errors.append(f"{name}: {a[0]} after the resume, {b[0]} in one go")
    elif not np.array_equal(a[1], b[1]):
        errors.append(f"{name}: iterations differ")
    elif abs(a[2] - b[2]) > 1e-12 * abs(b[2]):
        errors.append(f"{name}: final objective {a[2]!r} against {b[2]!r}")
if not any(r[3] > 1 for r in resumed.values()):
    errors.append("no run of the campaign was resumed")
sys.exit("\n".join(errors) or None)
EOF
  fail "campaign: the resumed result set differs from the uninterrupted one"
elapsed "campaign: cancelled, resumed, equal to an uninterrupted run; nothing left for a local rerun"

for name in signal-mpirun timelimit-srun inner-signal; do
  grep -q "requeueing to resume" "$results/$name"/*.out || fail "$name was never requeued"
  grep -q "restart count [1-9]" "$results/$name"/*.out || fail "$name never resumed"
done

HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 - "$results" "$problem-$algorithm" "$iters" \
  "$signal_budget" "$timelimit_budget" <<'EOF'
import sys
import h5py
import numpy as np

results, tag = sys.argv[1], sys.argv[2]
iters, signal_budget, timelimit_budget = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
expected = {  # file: (ranks, outer iterations or None, seconds of algorithm time or None)
    f"signal-mpirun/single-{tag}-n2.h5": (2, None, signal_budget),
    f"timelimit-srun/single-{tag}-n2.h5": (2, None, timelimit_budget),
}
for launcher in ("srun", "mpirun"):
    for n in (1, 2):
        expected[f"strong-{launcher}/strong-{tag}-n{n}.h5"] = (n, iters, None)
for name in ("inner-signal", "inner-reference"):
    expected[f"{name}/single-quadratic-aid-n2.h5"] = (2, 12, None)

errors = []
for name, (ranks, k, budget) in expected.items():
    with h5py.File(f"{results}/{name}", "r") as f:
        status = f.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else str(status)
        it = f["trace/iteration"][:]
        t = f["trace/time"][:]
        lengths = {m: f["trace"][m].shape[0] for m in f["trace"]}
        nranks = int(f.attrs["nranks"])
    problems = []
    if status not in ("completed", "converged"):
        problems.append(f"status {status}")
    if len(it) == 0 or not np.array_equal(it, np.arange(len(it))):
        problems.append(f"trace/iteration is not 0..n-1 without gaps or repeats: {it.tolist()}")
    if k is not None and status == "completed" and len(it) != k:
        problems.append(f"{len(it)} iterations, not {k}")
    if budget is not None and status == "completed" and not t[-1] >= 0.9 * budget:
        problems.append(f"trace/time ends at {t[-1]:.1f} s, short of the {budget:.0f} s budget")
    if len(set(lengths.values())) != 1:
        problems.append(f"trace datasets differ in length: {lengths}")
    if nranks != ranks:
        problems.append(f"nranks {nranks}, not {ranks}")
    print(f"{name}: {status}, {len(it)} iterations, {t[-1] if len(t) else 0:.1f} s, "
          f"{nranks} ranks" + ("" if not problems else " -- " + "; ".join(problems)))
    errors += problems

# Run 4 resumed equals its reference made in one go.
def columns(name):
    with h5py.File(f"{results}/{name}/single-quadratic-aid-n2.h5", "r") as f:
        out = {m: f["trace"][m][()] for m in f["trace"] if m != "time" and not m.endswith("_time")}
        out["/x"], out["/state/y"] = f["x"][()], f["state/y"][()]
        history = f.attrs["options_history"]
    return out, (history.decode() if isinstance(history, bytes) else history)
resumed, history = columns("inner-signal")
reference, _ = columns("inner-reference")
starts = len(history.splitlines())
worst = 0.0
for column, values in reference.items():
    other = resumed.get(column)
    if other is None or other.shape != values.shape:
        errors.append(f"run 4: column {column} missing or of another length")
        continue
    diff = np.abs(other - values)
    worst = max(worst, float(np.max(np.where(diff == 0, 0, diff / np.maximum(np.abs(values),
                                                                              1e-300)))))
print(f"run 4: {starts} starts, largest relative difference from the one-go run {worst:.2e}")
if starts < 2:
    errors.append("run 4 was never resumed")
if worst > 1e-12:
    errors.append(f"run 4 differs from its one-go reference by {worst:.2e}")
sys.exit(1 if errors else 0)
EOF
elapsed "PASS"
