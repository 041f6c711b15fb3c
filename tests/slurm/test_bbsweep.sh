#!/usr/bin/env bash
# Checks what jobs/bbsweep generates, without Slurm: #SBATCH headers and launch lines for each
# kind, weak-scaling sizes, regression names, refusals (exit 2, one line), and that every
# generated script is valid bash (and shellcheck-clean when shellcheck is installed).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d -t bb-sweep-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

check() { # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what" >&2
    failures=$((failures + 1))
  fi
}
bbsweep() { # subcommand, options: into $work, for a program that need not exist
  "$repo/jobs/bbsweep" "$1" --results-dir "$work" --exe /opt/bb/bilevelbench "${@:2}"
}
gen() { bbsweep generate "$@"; }
has() { grep -qxF -- "$2" "$1"; }   # file has this exact line
lacks() { ! grep -q -- "$2" "$1"; } # file has no line matching this
count() { echo $#; }                # number of arguments (files a glob matched)

gen --kind strong --problem quadratic --algorithm aid --ranks 1,2,4,8 --ranks-per-node 4 \
  --time 30 --partition batch -- -problem_n 1000 >/dev/null
s=$work/strong-quadratic-aid/bb-strong-quadratic-aid-n8.sbatch
check "strong: one script per rank count" \
  test "$(count "$work"/strong-quadratic-aid/*.sbatch)" -eq 4
check "strong: job name" has "$s" "#SBATCH --job-name=bb-strong-quadratic-aid-n8"
check "strong: nodes from ranks per node" has "$s" "#SBATCH --nodes=2"
check "strong: ranks" has "$s" "#SBATCH --ntasks=8"
check "strong: partition" has "$s" "#SBATCH --partition=batch"
check "strong: time limit" has "$s" "#SBATCH --time=00:30:00"
check "strong: requeue" has "$s" "#SBATCH --requeue"
check "strong: append" has "$s" "#SBATCH --open-mode=append"
check "strong: signal" has "$s" "#SBATCH --signal=B:TERM@120"
check "strong: srun launch" has "$s" "launch=(srun --mpi=pmix -n 8)"
check "strong: global size fixed" \
  has "$s" "program=(/opt/bb/bilevelbench -problem quadratic -algorithm aid -problem_n 1000)"
check "strong: result file" has "$s" "out=$work/strong-quadratic-aid/strong-quadratic-aid-n8.h5"
check "manifest lists the runs" /usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit([r["ranks"] for r in m["runs"]] != [1, 2, 4, 8])
' "$work/strong-quadratic-aid/sweep.json"

gen --kind weak --problem quadratic --algorithm aid --ranks 1,4 --weak-scale problem_n \
  --launcher mpirun --time 1 -- -problem_n 250 -outer_iters 3 >/dev/null
s=$work/weak-quadratic-aid/bb-weak-quadratic-aid-n4.sbatch
check "weak: size times ranks" has "$s" \
  "program=(/opt/bb/bilevelbench -problem quadratic -algorithm aid -problem_n 1000 -outer_iters 3)"
check "weak: mpirun launch, no root flags" has "$s" "launch=(mpirun -n 4)"
check "weak: short limit, signal halfway" has "$s" "#SBATCH --signal=B:TERM@30"
check "weak: no partition line by default" lacks "$s" "^#SBATCH --partition"

printf '%s\n' '# the suite' '-problem quadratic -algorithm aid -outer_iters 50' '' \
  '-problem lasso -algorithm igfm -alg_tol 1e-3' >"$work/suite.opts"
gen --kind regression --options-file "$work/suite.opts" --repetitions 3 --ranks 2 >/dev/null
check "regression: lines x repetitions" test "$(count "$work"/regression-suite/*.sbatch)" -eq 6
check "regression: name from options" \
  test -f "$work/regression-suite/bb-regression-lasso-igfm-alg_tol-1e-3-n2-r3.sbatch"

gen --nodes 2 --ranks-per-node 3 --problem p --algorithm a --launcher mpirun --mpirun-local \
  >/dev/null
s=$work/single-p-a/bb-single-p-a-n6.sbatch
check "single: nodes x ranks per node" has "$s" "#SBATCH --ntasks=6"
check "single: local mpirun flags" \
  has "$s" "launch=(mpirun -n 6 --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1)"

refused() { # bbsweep must refuse: exit code 2, one line on stderr, nothing on stdout
  local out rc=0
  out=$(bbsweep "$@" 2>"$work/err") || rc=$?
  [ "$rc" -eq 2 ] && [ -z "$out" ] && [ "$(wc -l <"$work/err")" -eq 1 ] &&
    grep -q "^bbsweep: refused: " "$work/err"
}
check "refuses --max-ranks" refused generate --kind strong --problem p --algorithm a \
  --ranks 1,2,4 --max-ranks 2
check "refuses --max-nodes" refused generate --ranks 8 --ranks-per-node 2 --problem p \
  --algorithm a --max-nodes 2
check "refuses --max-time" refused generate --problem p --algorithm a --time 2-0 --max-time 24:00:00
check "refuses a bad time" refused generate --problem p --algorithm a --time 1:2:3:4
check "refuses -output in options" refused generate --problem p --algorithm a -- -output x.h5
check "refuses weak without --weak-scale" refused generate --kind weak --problem p --algorithm a \
  --ranks 1,2
check "refuses regression without a file" refused generate --kind regression
check "refuses to submit a missing program" refused submit --problem p --algorithm a
check "refuses campaign without a runs file" refused generate --kind campaign

# A campaign's runs (bba campaign run --slurm): its names and files, in its own directory.
mkdir -p "$work/camp"
echo '[{"name": "s-quadratic-aid-s0-n2-0123456789", "ranks": 2,
        "options": ["-problem", "quadratic", "-algorithm", "aid", "-seed", "0"]}]' \
  >"$work/camp/runs.json"
bbsweep generate --kind campaign --runs-file "$work/camp/runs.json" >/dev/null 2>"$work/next"
s=$work/camp/bb-s-quadratic-aid-s0-n2-0123456789.sbatch
check "campaign: one script per run, in the campaign's directory" test -f "$s"
check "campaign: the campaign's file name" \
  has "$s" "out=$work/camp/s-quadratic-aid-s0-n2-0123456789.h5"
check "campaign: ranks" has "$s" "#SBATCH --ntasks=2"
check "generate prints the next steps" grep -q "compare: .*analysis/bba compare $work/camp" \
  "$work/next"

# bba sweep is the same command as jobs/bbsweep (the analysis package's sweep module).
/usr/bin/python3 "$repo/analysis/bba" sweep generate --results-dir "$work/via-bba" \
  --exe /opt/bb/bilevelbench --kind strong --problem quadratic --algorithm aid --ranks 1,2,4,8 \
  --ranks-per-node 4 --time 30 --partition batch -- -problem_n 1000 >/dev/null 2>&1
same_scripts() { # the scripts of one sweep generated into two results directories
  local f
  for f in "$1"/*.sbatch; do
    diff <(sed "s|$1|DIR|g" "$f") <(sed "s|$2|DIR|g" "$2/$(basename "$f")") || return 1
  done
}
check "bba sweep writes what jobs/bbsweep writes" \
  same_scripts "$work/strong-quadratic-aid" "$work/via-bba/strong-quadratic-aid"

for s in "$work"/*/*.sbatch; do
  bash -n "$s" || failures=$((failures + 1))
done
check "generated scripts parse" test "$failures" -eq 0
if command -v shellcheck >/dev/null; then
  check "generated scripts are shellcheck-clean" shellcheck "$work"/*/*.sbatch
fi

[ "$failures" -eq 0 ] || {
  echo "test_bbsweep: $failures failed" >&2
  exit 1
}
echo "test_bbsweep: PASS"
