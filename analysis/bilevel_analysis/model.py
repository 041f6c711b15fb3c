"""`bba model`: predict strong and weak scaling to many ranks on an InfiniBand cluster.

We can only measure 1 and 2 ranks on the development machine, but users run on clusters
with hundreds of ranks. This module turns two measured points into a predicted curve with
a deliberately simple, stated model (docs/performance-model.md):

    T(p) = Ts + Tp * (B_here / B_cluster(p)) / p + n_red * allreduce(p, m) + n_sc * gather(p, m_s)

* ``Ts``/``Tp`` (serial and parallel seconds per outer iteration) are fitted from the two
  measured times, with the communication the 2-rank run did here subtracted first;
* the parallel part is assumed memory-bandwidth bound, so it is rescaled by the ratio of
  per-rank STREAM bandwidths (measured here, assumed there);
* communication counts per outer iteration come from the PETSc event log in the result
  files, costed with the latency-bandwidth (Hockney) model of Rabenseifner's allreduce.

Every number the model assumes is a command-line option, so a user with real cluster
parameters replaces ours instead of editing code.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .common import AnalysisError, HelpFormatter, fmt_num, markdown_table, pyplot, to_json
from .io import ITERATION_STAGE, Run, key_label, load_runs
from .scaling import efficiency_rows

#: PETSc events whose every call is one small (8-byte scalar) MPI_Allreduce.
SCALAR_REDUCTIONS = ("VecDot", "VecTDot", "VecNorm", "VecNormalize", "VecMDot", "VecMax",
                     "VecMin")
#: VecScatterBegin: every scatter; those that are the suite's gathers to all ranks are in the
#: file's /communication ledger with their bytes, the rest (MatMult's halo exchanges) are
#: costed as one latency each.
SCATTER_EVENT = "VecScatterBegin"
#: MPI_Allreduce calls of the driver per outer iteration outside any PETSc event: the
#: stop/flush flags and the step time (src/driver/driver.cpp).
DRIVER_REDUCTIONS = 2
GB = 1e9


def _steps(p: int) -> int:
    """Rounds of a recursive-doubling/halving collective on p ranks."""
    return math.ceil(math.log2(p)) if p > 1 else 0


def allreduce_time(p: int, m: float, alpha: float, beta: float) -> float:
    """Seconds of one allreduce of m bytes on p ranks (Rabenseifner: reduce-scatter by
    recursive halving, then allgather by recursive doubling):
    2 ceil(log2 p) alpha + 2 (p-1)/p m beta. Zero on one rank (no message)."""
    if p <= 1:
        return 0.0
    return 2 * _steps(p) * alpha + 2 * (p - 1) / p * m * beta


def allgather_time(p: int, m: float, alpha: float, beta: float) -> float:
    """Seconds to gather a vector of m bytes in total onto every rank (recursive
    doubling): ceil(log2 p) alpha + (p-1)/p m beta; half of an allreduce."""
    if p <= 1:
        return 0.0
    return _steps(p) * alpha + (p - 1) / p * m * beta


@dataclass(frozen=True)
class Machine:
    """Nodes of ``ranks_per_node`` ranks; latency and bandwidth differ within and
    between nodes. The development machine is the one-node special case, so the fit and
    the prediction cost communication with the same code.

    Per-rank memory bandwidth: a rank alone gets ``core_gbs``; ranks filling a node share
    ``node_gbs`` (ranks are packed node by node).
    """

    ranks_per_node: int
    node_gbs: float         # STREAM triad of a full node
    core_gbs: float         # STREAM triad of one rank alone on a node
    alpha_intra: float      # s per message, shared memory
    alpha_inter: float      # s per message, network
    link_gbs: float         # network bandwidth per node
    core_gflops: float = 0.0  # dense (DGEMM-like) flop rate of one core; 0: unknown

    def rank_bandwidth(self, p: int) -> float:
        """Bytes/s of memory bandwidth each of p ranks gets."""
        return GB * min(self.core_gbs, self.node_gbs / min(p, self.ranks_per_node))

    def _alpha(self, p: int) -> float:
        """Mean latency per collective round: the first log2(ranks per node) rounds stay
        inside a node (hierarchical collectives), the rest cross the network."""
        steps = _steps(p)
        if steps == 0:
            return 0.0
        intra = _steps(min(p, self.ranks_per_node))
        inter = _steps(math.ceil(p / self.ranks_per_node))
        return (intra * self.alpha_intra + inter * self.alpha_inter) / steps

    def _beta(self, p: int) -> float:
        """s per byte of the slowest link used: the network once p spans nodes, else a
        shared-memory copy at the rank's memory bandwidth."""
        return 1 / (GB * self.link_gbs) if p > self.ranks_per_node else 1 / self.rank_bandwidth(p)

    def allreduce(self, p: int, m: float) -> float:
        return allreduce_time(p, m, self._alpha(p), self._beta(p))

    def allgather(self, p: int, m: float) -> float:
        return allgather_time(p, m, self._alpha(p), self._beta(p))

    def halo(self, p: int) -> float:
        """A neighbour exchange: one message latency (its bytes are not recorded)."""
        return self._alpha(p) if p > 1 else 0.0


def here_machine(stream_gbs: tuple[float, float], allreduce_latency: float,
                 core_gflops: float = 0.0) -> Machine:
    """The measured machine: one node of 2 ranks. An 8-byte allreduce on 2 ranks is
    2 alpha (one round, there and back), so alpha = measured latency / 2."""
    b1, b2 = stream_gbs
    return Machine(ranks_per_node=2, node_gbs=2 * b2, core_gbs=b1,
                   alpha_intra=allreduce_latency / 2, alpha_inter=allreduce_latency / 2,
                   link_gbs=b2, core_gflops=core_gflops)


#: What limits the parallel part's speed per rank. Matrix-vector and vector kernels stream
#: their operands from memory (bandwidth: a rank slows down as ranks fill a node); dense
#: factorisations and small dense QP solves reuse data in cache (compute: a rank runs at its
#: core's flop rate however full the node is).
KERNELS = ("bandwidth", "compute")


def rank_slowdown(kernel: str, here: Machine, cluster: Machine, p: int) -> float:
    """Time of the parallel part per unit of work on one of p cluster ranks, relative to one
    rank here."""
    if kernel == "compute":
        return here.core_gflops / cluster.core_gflops
    return here.rank_bandwidth(1) / cluster.rank_bandwidth(p)


@dataclass
class Communication:
    """Messages per outer iteration: counts from the PETSc event log, sizes of the suite's
    own collectives from the file's /communication ledger (format 3)."""

    scalar_reductions: float     # 8-byte allreduces: Vec reductions + the driver's
    vector_reductions: float     # the suite's allreduces (BBAllreduce), reduce_bytes each
    scatters: float              # gathers to all ranks, scatter_bytes each
    reduce_bytes: float
    scatter_bytes: float
    halo_exchanges: float = 0.0  # other scatters (MatMult halos): one latency each

    def time(self, machine: Machine, p: int) -> float:
        """Seconds of communication per iteration on p ranks of ``machine``."""
        return (self.scalar_reductions * machine.allreduce(p, 8)
                + self.vector_reductions * machine.allreduce(p, self.reduce_bytes)
                + self.scatters * machine.allgather(p, self.scatter_bytes)
                + self.halo_exchanges * machine.halo(p))


def communication(run: Run, reduce_bytes: float | None, scatter_bytes: float | None
                  ) -> Communication:
    """Per-iteration messages of ``run`` (the multi-rank run: at one rank PETSc does no
    scatters at all) in its timed steps. The sizes of the suite's allreduces and gathers are
    the file's (mean bytes per call); ``reduce_bytes``/``scatter_bytes`` override them, and
    files older than format 3, which do not record them, need both."""
    n = run.n_iterations
    if n == 0:
        raise AnalysisError(f"{run.label}: empty trace, no iterations recorded")

    def per_iteration(*events):
        return sum(run.timing[e].count for e in events if e in run.timing) / n

    if run.communication is None and (reduce_bytes is None or scatter_bytes is None):
        raise AnalysisError(
            f"{run.label}: the file records no collective sizes (format_version "
            f"{run.attr('format_version', '?')} < 3); give --reduce-bytes and --scatter-bytes")
    ledger = (run.communication or {}).get(ITERATION_STAGE, {})
    reduce_calls = ledger.get("allreduce")
    gather_calls = ledger.get("gather")

    def mean_bytes(tally, override):
        if override is not None:
            return override
        return tally.bytes / tally.calls if tally and tally.calls else 8.0

    vector_reductions = (reduce_calls.calls / n if reduce_calls
                         else per_iteration("BBAllreduce"))
    scatters = per_iteration(SCATTER_EVENT)
    # Without a ledger (old files) every scatter counts as a gather of --scatter-bytes.
    gathers = (scatters if run.communication is None
               else gather_calls.calls / n if gather_calls else 0.0)
    return Communication(
        scalar_reductions=per_iteration(*SCALAR_REDUCTIONS) + DRIVER_REDUCTIONS,
        vector_reductions=vector_reductions,
        scatters=gathers,
        reduce_bytes=mean_bytes(reduce_calls, reduce_bytes),
        scatter_bytes=mean_bytes(gather_calls, scatter_bytes),
        halo_exchanges=max(scatters - gathers, 0.0))


#: Bounds of B_here(1)/B_here(2) used in the fit. Below 1 a second rank would have more
#: bandwidth than the first (noise); above 1.5 the fit divides by 1 - r/2 <= 1/4, so timing
#: noise is amplified more than 4x, and a drop that large on 2 ranks is more likely
#: other load on the machine than its memory system.
BANDWIDTH_RATIO_RANGE = (1.0, 1.5)


@dataclass
class Fit:
    t1: float                   # measured seconds per iteration, 1 rank (median)
    t2: float                   # measured, 2 ranks (median)
    comm2: float                # communication of the 2-rank run here (model)
    bandwidth_ratio: float      # B_here(1) / B_here(2) used
    ts: float
    tp: float
    notes: list = field(default_factory=list)


def fit_two_point(t1: float, t2: float, comm2: float, bandwidth_ratio: float) -> Fit:
    """Serial and parallel parts from T(1) = Ts + Tp and
    T(2) = Ts + r Tp / 2 + comm2, r = B(1)/B(2) the per-rank bandwidth loss on 2 ranks.

    Clamped so both parts are in [0, T(1)]: a 2-rank run slower than the model allows
    means no measurable parallel part (Tp = 0); one faster than perfect means Ts = 0.
    """
    notes = []
    lo, hi = BANDWIDTH_RATIO_RANGE
    r = min(max(bandwidth_ratio, lo), hi)
    if r != bandwidth_ratio:
        notes.append(f"bandwidth ratio B(1)/B(2) = {bandwidth_ratio:.3g} clamped to {r:.3g}")
    tp = (t1 - t2 + comm2) / (1 - r / 2)
    if tp < 0:
        notes.append(f"T(2) = {t2:.4g} s >= T(1) + comm: no parallel part measured, Tp = 0")
        tp = 0.0
    elif tp > t1:
        notes.append(f"T(2) = {t2:.4g} s is faster than perfect scaling allows: Ts = 0")
        tp = t1
    return Fit(t1, t2, comm2, r, t1 - tp, tp, notes)


@dataclass
class Prediction:
    p: int
    strong_time: float
    strong_speedup: float
    strong_efficiency: float
    strong_comm: float           # share of the strong-scaling time spent communicating
    weak_time: float
    weak_speedup: float          # scaled speedup p T(1) / T(p)
    weak_efficiency: float


def predict(fit: Fit, comm: Communication, here: Machine, cluster: Machine,
            ranks: list[int], weak_work: float = 1.0, kernel: str = "bandwidth"
            ) -> list[Prediction]:
    """Strong (total work fixed) and weak (``weak_work`` x the 1-rank run's parallel work
    per rank; Ts fixed) times per iteration on ``cluster``; speedup and efficiency are
    relative to the predicted 1-rank time there, with the formulas of ``bba scaling``."""
    slowdown = {p: rank_slowdown(kernel, here, cluster, p) for p in ranks}
    c = {p: comm.time(cluster, p) for p in ranks}
    strong = {p: fit.ts + fit.tp * slowdown[p] / p + c[p] for p in ranks}
    weak = {p: fit.ts + weak_work * fit.tp * slowdown[p] + c[p] for p in ranks}
    s_rows = {r.p: r for r in efficiency_rows(strong, "strong")}
    w_rows = {r.p: r for r in efficiency_rows(weak, "weak")}
    return [Prediction(p, strong[p], s_rows[p].speedup, s_rows[p].efficiency, c[p] / strong[p],
                       weak[p], p * w_rows[p].efficiency, w_rows[p].efficiency)
            for p in ranks]


def _machine_file(path: Path) -> tuple[tuple[float, float], float, float | None]:
    """Machine parameters from the JSON a benchmark writes (docs/performance-model.md)."""
    try:
        data = json.loads(path.read_text())
        s = data["stream_gbs_per_rank"]
        stream = (float(s["1"]), float(s["2"])) if isinstance(s, dict) else (
            float(s[0]), float(s[1]))
        gflops = data.get("core_gflops")
        return stream, float(data["allreduce_latency_s"]), (
            None if gflops is None else float(gflops))
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such machine file") from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise AnalysisError(f"{path}: cannot read machine parameters (expected "
                            f'{{"stream_gbs_per_rank": {{"1": B1, "2": B2}}, '
                            f'"allreduce_latency_s": S, optional "core_gflops": G}}): '
                            f"{type(exc).__name__} {exc}") from None


def read_machine(args, kernel: str) -> tuple[tuple[float, float], float, float]:
    """(STREAM GB/s per rank at 1 and 2 ranks, allreduce latency at 2 ranks in s, one core's
    dense flop rate in GFLOP/s or 0 if unknown) from --machine JSON, each overridden by
    --stream-gbs / --allreduce-latency / --here-gflops if given."""
    stream, latency, gflops = args.stream_gbs, args.allreduce_latency, args.here_gflops
    if args.machine:
        file_stream, file_latency, file_gflops = _machine_file(Path(args.machine))
        stream = stream or file_stream
        latency = file_latency if latency is None else latency
        gflops = file_gflops if gflops is None else gflops
    if stream is None or latency is None:
        raise AnalysisError("machine parameters missing: give --machine FILE.json, or "
                            "--stream-gbs B1 B2 and --allreduce-latency SECONDS")
    if not all(math.isfinite(v) and v > 0 for v in (*stream, latency)):
        raise AnalysisError(f"machine parameters must be positive: stream {stream[0]}, "
                            f"{stream[1]} GB/s, allreduce latency {latency} s")
    if kernel == "compute" and not (gflops and gflops > 0):
        raise AnalysisError("--kernel compute needs this machine's flop rate per core: give "
                            '--here-gflops G or "core_gflops" in the --machine file')
    return (float(stream[0]), float(stream[1])), float(latency), float(gflops or 0.0)


def measured_pair(runs: list[Run]) -> tuple[float, float, Run]:
    """Median times per iteration at 1 and 2 ranks, and a 2-rank run for the counts.

    Refuses inputs that are not one benchmark (problem, algorithm, options other than
    -output/-seed) with the same number of iterations at both rank counts.
    """
    keys = {run.benchmark_key() for run in runs}
    if len(keys) > 1:
        raise AnalysisError("inputs are not the same benchmark: "
                            + "; ".join(sorted(key_label(k) for k in keys)))
    by_p: dict[int, list[Run]] = {}
    for run in runs:
        if "nranks" not in run.attrs:
            raise AnalysisError(f"{run.label}: no 'nranks' attribute")
        by_p.setdefault(int(run.attrs["nranks"]), []).append(run)
    for p in (1, 2):
        if p not in by_p:
            raise AnalysisError(f"no {p}-rank run among the inputs (rank counts found: "
                                f"{', '.join(map(str, sorted(by_p)))})")
    iterations = {run.n_iterations for p in (1, 2) for run in by_p[p]}
    if len(iterations) > 1:
        raise AnalysisError(f"1- and 2-rank runs did different numbers of iterations "
                            f"({', '.join(map(str, sorted(iterations)))})")
    t1, t2 = (statistics.median(r.time_per_iteration() for r in by_p[p]) for p in (1, 2))
    return t1, t2, by_p[2][0]


def plot_model(fit: Fit, rows: list[Prediction], out: Path, title: str) -> None:
    """Time per iteration (with the two measured points and the ideal strong line) and
    efficiency, log-log over the predicted rank counts."""
    plt = pyplot()
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ps = [r.p for r in rows]
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax_t.plot(ps, [r.strong_time for r in rows], "-", color="C0", label="strong (model)")
    ax_t.plot(ps, [r.weak_time for r in rows], "-", color="C1", label="weak (model)")
    ax_t.plot(ps, [rows[0].strong_time / p for p in ps], "--", color="gray", lw=1,
              label="ideal strong")
    ax_t.plot([1, 2], [fit.t1, fit.t2], "ko", label="measured here")
    ax_t.set_ylabel("time per outer iteration [s]")
    ax_e.plot(ps, [r.strong_efficiency for r in rows], "-", color="C0", label="strong")
    ax_e.plot(ps, [r.weak_efficiency for r in rows], "-", color="C1", label="weak")
    ax_e.set_ylabel("parallel efficiency")
    for ax in (ax_t, ax_e):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ps)  # every rank count predicted, as plain numbers
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("MPI ranks p")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def write_csvs(rows: list[Prediction], outdir: Path) -> None:
    """model_strong.csv and model_weak.csv with the columns `bba scaling --model` reads
    (p, predicted_time), plus the predicted speedup and efficiency."""
    outdir.mkdir(parents=True, exist_ok=True)
    for mode in ("strong", "weak"):
        with open(outdir / f"model_{mode}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["p", "predicted_time", "speedup", "efficiency"])
            for r in rows:
                w.writerow([r.p] + [f"{getattr(r, f'{mode}_{c}'):.6g}"
                                    for c in ("time", "speedup", "efficiency")])


def model_runs(runs: list[Run], args, kernel: str | None = None):
    """(fit, communication, here, cluster, predictions) for one benchmark's runs at 1 and 2
    ranks, with the machine, cluster and workload options of add_model_arguments; ``kernel``
    overrides --kernel (bba compare takes it from the campaign's study)."""
    kernel = kernel or args.kernel
    stream, latency, gflops = read_machine(args, kernel)
    t1, t2, run2 = measured_pair(runs)
    comm = communication(run2, args.reduce_bytes, args.scatter_bytes)
    here = here_machine(stream, latency, gflops)
    cluster = Machine(args.ranks_per_node, args.node_gbs, args.core_gbs, args.alpha_intra,
                      args.alpha_inter, args.link_gbs, args.core_gflops)
    # A compute-bound part loses no speed when a second rank shares the memory system.
    ratio = stream[0] / stream[1] if kernel == "bandwidth" else 1.0
    fit = fit_two_point(t1, t2, comm.time(here, 2), ratio)
    ranks = [2 ** k for k in range(int(math.log2(args.max_ranks)) + 1)]
    return fit, comm, here, cluster, predict(fit, comm, here, cluster, ranks, args.weak_work,
                                             kernel)


def run(args) -> int:
    runs = load_runs(args.paths)
    fit, comm, here, cluster, rows = model_runs(runs, args)
    t1, t2 = fit.t1, fit.t2
    title = key_label(runs[0].benchmark_key())

    if args.out_dir:
        outdir = Path(args.out_dir)
        write_csvs(rows, outdir)
        plot_model(fit, rows, outdir / "model.png", title)
    if args.json:
        print(to_json({"benchmark": title, "fit": asdict(fit), "communication": asdict(comm),
                       "cluster": asdict(cluster), "here": asdict(here),
                       "weak_work": args.weak_work, "kernel": args.kernel, "rows": [asdict(r) for r in rows]}))
        return 0
    print(f"### {title}: predicted scaling on the cluster model\n")
    print(f"Measured here: T(1) = {fmt_num(t1)} s, T(2) = {fmt_num(t2)} s per iteration. "
          f"Fit: Ts = {fmt_num(fit.ts)} s, Tp = {fmt_num(fit.tp)} s "
          f"(2-rank communication here {fmt_num(fit.comm2)} s, B(1)/B(2) = "
          f"{fmt_num(fit.bandwidth_ratio, 3)}). Per iteration: "
          f"{fmt_num(comm.scalar_reductions)} scalar allreduces, "
          f"{fmt_num(comm.vector_reductions)} of {fmt_num(comm.reduce_bytes)} B, "
          f"{fmt_num(comm.scatters)} gathers of {fmt_num(comm.scatter_bytes)} B, "
          f"{fmt_num(comm.halo_exchanges)} halo exchanges. "
          f"Weak: {fmt_num(args.weak_work)} x the 1-rank parallel work per rank. "
          f"Parallel part {args.kernel}-bound.")
    for note in fit.notes:
        print(f"\nNote: {note}.")
    print()
    print(markdown_table(
        ["p", "strong T/iter [s]", "speedup", "efficiency", "comm share",
         "weak T/iter [s]", "scaled speedup", "weak efficiency"],
        [[r.p, r.strong_time, r.strong_speedup, r.strong_efficiency, r.strong_comm,
          r.weak_time, r.weak_speedup, r.weak_efficiency] for r in rows]))
    return 0


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(text) from None
        if not value > 0:
            raise ValueError(text)
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "model", help="predict strong/weak scaling on a cluster from 1- and 2-rank runs",
        description="Fit serial and parallel time per iteration from runs of one benchmark "
                    "at 1 and 2 ranks (medians over repetitions), count its messages from "
                    "the PETSc event log, and predict time, speedup and efficiency up to "
                    "--max-ranks on a latency-bandwidth model of an InfiniBand cluster "
                    "(docs/performance-model.md).",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="result files or directories: the runs at 1 and at 2 ranks")
    add_model_arguments(p)
    p.add_argument("--out-dir", metavar="DIR",
                   help="write model_strong.csv, model_weak.csv (for bba scaling --model) "
                        "and model.png here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def add_model_arguments(p) -> None:
    """The machine measured here, the cluster and the workload: bba model's and bba
    compare's (which draws the model beside measured scaling)."""
    pos, num = _positive(float), _positive(int)
    m = p.add_argument_group("machine measured here")
    m.add_argument("--machine", metavar="JSON",
                   help='{"stream_gbs_per_rank": {"1": B1, "2": B2}, "allreduce_latency_s": S, '
                        '"core_gflops": G}  (core_gflops optional)')
    m.add_argument("--stream-gbs", nargs=2, type=pos, metavar=("B1", "B2"),
                   help="STREAM triad GB/s per rank with 1 and with 2 ranks running")
    m.add_argument("--allreduce-latency", type=pos, metavar="S",
                   help="seconds of one 8-byte MPI_Allreduce on 2 ranks")
    m.add_argument("--here-gflops", type=pos, metavar="G",
                   help="dense flop rate of one core here [GFLOP/s] (for --kernel compute)")
    c = p.add_argument_group("cluster (defaults: a typical EDR/HDR InfiniBand cluster)")
    c.add_argument("--ranks-per-node", type=num, default=64)
    c.add_argument("--node-gbs", type=pos, default=200.0, help="STREAM triad GB/s of a node")
    c.add_argument("--core-gbs", type=pos, default=12.0,
                   help="STREAM triad GB/s of one rank alone on a node")
    c.add_argument("--alpha-intra", type=pos, default=0.3e-6,
                   help="MPI latency within a node [s]")
    c.add_argument("--alpha-inter", type=pos, default=1.3e-6,
                   help="MPI latency between nodes [s]")
    c.add_argument("--link-gbs", type=pos, default=12.5,
                   help="network bandwidth per node [GB/s] (100 Gb/s EDR)")
    c.add_argument("--core-gflops", type=pos, default=34.0,
                   help="dense flop rate of one cluster core [GFLOP/s] (a 2.5 GHz AVX2 core "
                        "with two FMA units: 40 peak, ~85%% in DGEMM)")
    c.add_argument("--max-ranks", type=num, default=1024,
                   help="predict p = 1, 2, 4, ... up to this")
    w = p.add_argument_group("workload")
    w.add_argument("--reduce-bytes", type=pos,
                   help="bytes of each of the suite's allreduces (default: the file's "
                        "/communication ledger, mean per call; required for files before "
                        "format 3)")
    w.add_argument("--scatter-bytes", type=pos,
                   help="bytes of each gather to all ranks (default: the file's ledger, as "
                        "above)")
    w.add_argument("--kernel", choices=KERNELS, default="bandwidth",
                   help="what bounds the parallel part: memory bandwidth (vector and sparse "
                        "kernels: scaled by per-rank STREAM bandwidth) or the core's flop rate "
                        "(dense or cache-resident work such as batched small QP solves)")
    w.add_argument("--weak-work", type=pos, default=1.0,
                   help="weak scaling's parallel work per rank, as a fraction of the "
                        "1-rank run's (e.g. 0.5 if the weak size per rank is half of it)")
