"""The FFO-layer paper's QP layers (docs/ffo-qp-layers.md): training curves of ``qp_layer`` runs and the
Fig. 3 table of ``bilevel_qp_layer_fig3``.

``bba training RUNS --png curves.png``: for each run of the ``qp_layer`` algorithm (dfl_qp), the
minibatch loss ``train_loss`` against ``epoch`` and against ``time``, smoothed per epoch, one
curve per oracle (``-alg_oracle``); prints per run the last epoch's mean training loss, the last
``test_loss`` and ``test_error`` (sudoku_lp; NaN otherwise), algorithm time and the summed
forward/backward times.

``bba fig3 FILE.json ...``: one table row per (ranks, n): forward and backward seconds per
batch by oracle, the kkt/ffoqp backward ratio, and 1 − each oracle's cosine similarity to kkt.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .common import AnalysisError
from .io import load_runs

ORACLES = ("ffoqp", "ffo", "kkt")


def oracle_of(run) -> str:
    for name, value in run.options:
        if name == "-alg_oracle" and value:
            return value
    return "ffoqp"  # the option's default


def epoch_means(epoch: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of `values` over the rows of each (ceil'd) epoch: the per-epoch training loss."""
    ids = np.ceil(epoch - 1e-12).astype(int)
    keys = np.unique(ids)
    return keys.astype(float), np.array([values[ids == k].mean() for k in keys])


def last_finite(run, name: str) -> float:
    """The last reported value of a metric written every -report_every rows (NaN if none)."""
    values = run.trace.get(name)
    if values is None or not np.isfinite(values).any():
        return math.nan
    return float(values[np.isfinite(values)][-1])


def curves_summary(runs) -> list[dict]:
    rows = []
    for run in runs:
        if run.attr("algorithm") != "qp_layer":
            raise AnalysisError(f"{run.label}: algorithm {run.attr('algorithm')!r}, "
                                "accepted: qp_layer runs")
        epoch, loss = run.metric("epoch"), run.metric("train_loss")
        _, per_epoch = epoch_means(epoch, loss)
        rows.append(dict(label=run.label, oracle=oracle_of(run), nranks=run.attr("nranks"),
                         epochs=float(epoch[-1]), train_loss=float(per_epoch[-1]),
                         test_loss=last_finite(run, "test_loss"),
                         test_error=last_finite(run, "test_error"),
                         time=float(run.metric("time")[-1]),
                         forward=float(run.metric("forward_time").sum()),
                         backward=float(run.metric("backward_time").sum())))
    return rows


def plot_curves(runs, png: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for run in runs:
        label = f"{oracle_of(run)} ({run.attr('nranks')} rk)"
        epoch, loss, time = run.metric("epoch"), run.metric("train_loss"), run.metric("time")
        e, m = epoch_means(epoch, loss)
        a.plot(e, m, marker="o", label=label)
        # Against time: the running mean over the last epoch's worth of rows.
        width = max(1, int(round(1.0 / max(epoch[0], 1e-12))))
        smooth = np.convolve(loss, np.ones(width) / width, mode="valid")
        b.plot(time[width - 1:], smooth, label=label)
    a.set_xlabel("epoch")
    a.set_ylabel("training loss (train_loss, epoch mean)")
    b.set_xlabel("algorithm time [s]")
    b.set_ylabel("training loss (running mean over an epoch)")
    a.legend()
    b.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def cmd_curves(args) -> int:
    runs = load_runs(args.paths)
    rows = curves_summary(runs)
    print(f"{'run':40s} {'oracle':6s} {'ranks':>5s} {'epochs':>6s} {'train loss':>12s} "
          f"{'test loss':>12s} {'test err':>8s} {'time s':>8s} {'fwd s':>8s} {'bwd s':>8s}")
    for r in rows:
        print(f"{r['label'][:40]:40s} {r['oracle']:6s} {r['nranks']:5d} {r['epochs']:6.2f} "
              f"{r['train_loss']:12.6f} {r['test_loss']:12.6f} {r['test_error']:8.3f} "
              f"{r['time']:8.3f} "
              f"{r['forward']:8.3f} {r['backward']:8.4f}")
    if args.png:
        plot_curves(runs, args.png)
    return 0


def load_fig3(paths) -> list[dict]:
    rows = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise AnalysisError(f"{path}: not a readable JSON file ({exc})") from exc
        if data.get("benchmark") != "qp_layer_fig3":
            raise AnalysisError(f"{path}: not a bilevel_qp_layer_fig3 result")
        for row in data["rows"]:
            rows.append(dict(row, nranks=data["nranks"], batch=data["batch"],
                             load_average=data.get("load_average", [float("nan")] * 3)))
    return sorted(rows, key=lambda r: (r["nranks"], r["n"]))


def cmd_fig3(args) -> int:
    rows = load_fig3(args.paths)
    print("| ranks | n | forward s | backward kkt s | ffoqp s | ffo s | kkt/ffoqp | "
          "1 − cos ffoqp | 1 − cos ffo | active |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        bw, cos = r["backward_seconds"], r["cosine_to_kkt"]
        print(f"| {r['nranks']} | {r['n']} | {r['forward_seconds']:.3f} | {bw['kkt']:.4f} | "
              f"{bw['ffoqp']:.4f} | {bw['ffo']:.4f} | {bw['kkt'] / bw['ffoqp']:.2f} | "
              f"{1 - cos['ffoqp']:.1e} | {1 - cos['ffo']:.1e} | {r['active_fraction']:.3f} |")
    if args.bounds:
        print_bounds(rows)
    return 0


def print_bounds(rows) -> None:
    """Per-QP times against the bounds measured in the same run (docs/performance.md): the
    backward ratio kkt/ffoqp (with and without the forward's factor) and the forward's fraction
    of its factorisation bound, by wall clock and by CPU time; the bound of the Newton systems'
    reduction the run used, and that of the reduction to y (files from before the reduction to
    the multipliers used that one)."""
    print()
    print("| ranks | n | load (1 min) | IPM iterations | Newton systems reduced to | "
          "forward s/QP, CPU | flop bound, CPU | fraction of bound (wall, CPU) | "
          "fraction of kernel bound, CPU | to-y flop bound, CPU | fraction of to-y bound, CPU | "
          "kkt s/QP, CPU | ffoqp s/QP, CPU | kkt/ffoqp (wall, CPU) | "
          "kkt/ffoqp without forward factor, CPU | 1 − cos ffoqp |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "forward_cpu_seconds" not in r:
            raise AnalysisError("--bounds: the file predates the bound measurements")
        per = r["qps_per_rank"]
        bw, cpu = r["backward_seconds"], r["backward_cpu_seconds"]
        to_y = r.get("forward_to_y_flop_bound_cpu_seconds", r["forward_flop_bound_cpu_seconds"])
        print(f"| {r['nranks']} | {r['n']} | {r['load_average'][0]:.1f} | {r['ipm_iterations']:.1f} | "
              f"{r.get('newton_reduction', 'y')} | "
              f"{r['forward_cpu_seconds'] / per:.3f} | {r['forward_flop_bound_cpu_seconds'] / per:.3f} | "
              f"{r['forward_flop_bound_seconds'] / r['forward_seconds']:.2f}, "
              f"{r['forward_flop_bound_cpu_seconds'] / r['forward_cpu_seconds']:.2f} | "
              f"{r['forward_kernel_bound_cpu_seconds'] / r['forward_cpu_seconds']:.2f} | "
              f"{to_y / per:.3f} | {to_y / r['forward_cpu_seconds']:.2f} | "
              f"{cpu['kkt'] / per:.4f} | {cpu['ffoqp'] / per:.4f} | "
              f"{bw['kkt'] / bw['ffoqp']:.1f}, {cpu['kkt'] / cpu['ffoqp']:.1f} | "
              f"{cpu['kkt'] / cpu['ffoqp_refactor']:.1f} | {1 - r['cosine_to_kkt']['ffoqp']:.1e} |")


def register(subparsers) -> None:
    p = subparsers.add_parser("training", help="the FFO-layer paper: qp_layer training curves by oracle")
    p.add_argument("paths", nargs="+", metavar="PATH", help="qp_layer result files")
    p.add_argument("--png", help="write loss-vs-epoch and loss-vs-time plots")
    p.set_defaults(func=cmd_curves)
    q = subparsers.add_parser("fig3", help="the FFO-layer paper's Fig. 3 table from bilevel_qp_layer_fig3")
    q.add_argument("paths", nargs="+", metavar="JSON", help="fig3 JSON files (one per rank count)")
    q.add_argument("--bounds", action="store_true",
                   help="also the per-QP table against the measured bounds (docs/performance.md)")
    q.set_defaults(func=cmd_fig3)
