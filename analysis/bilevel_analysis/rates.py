"""`bba rates`: fit convergence rates and compare them with the theory (docs/algorithms.md §8).

The papers state rates as slopes: a log-log slope in K (sublinear rates such as K^{-2/3}),
a log-linear slope log q (R-linear rates), or a slope in a parameter across runs (the FFO
oracle error is O(delta)). This module measures that slope over a chosen range and says
whether the theory is reproduced, beaten ("faster", reported rather than hidden), or
missed ("slower").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .common import AnalysisError, HelpFormatter, markdown_table, pyplot, to_json
from .io import Run, load_runs

#: x-axis names read from the trace; anything else is a per-run parameter.
TRACE_AXES = ("K", "iteration", "time")


@dataclass(frozen=True)
class Prediction:
    """A rate from docs/algorithms.md §8. ``slope=None`` means ln(q): it needs ``--q``."""

    slope: float | None
    loglinear: bool
    description: str


# Mirrors the table in docs/algorithms.md §8; keep them in step.
PREDICTIONS: dict[str, Prediction] = {
    "itd_vi_inner": Prediction(
        None, True, "ITD-VI inner loop: ||y_t - y*||, phi_ab(y_t) R-linear, slope ln q vs t"),
    "itd_vi_jacobian": Prediction(
        None, True, "ITD-VI implicit gradient: ||J_T - J*|| ~ q^(T-1) T, slope ~ ln q vs T "
                    "(the factor T adds 1/T to the local slope)"),
    "itd_vi_outer": Prediction(
        -1.0, False, "ITD-VI outer: min_k ||grad Phi(x_k)||^2 ~ 1/K until the T-bias floor "
                     "(hypergrad_norm with --square --running-min)"),
    "ffo_delta": Prediction(
        1.0, False, "FFO oracle: ||hat grad Phi - grad Phi|| = O(delta), slope +1 in delta "
                    "until the tolerance/delta floor"),
    "pgd_qp_grad2": Prediction(
        -2.0 / 3.0, False, "PGD-QP rho=||grad h||^2: (1/K) sum ||Delta_k||^2 and "
                           "(1/K) sum ||grad_y g||^2 ~ K^(-2/3) (--running-average)"),
    "pgd_qp_sqrt_h0": Prediction(
        -1.0 / 3.0, False, "PGD-QP rho=||grad h|| sqrt(h0): (1/K) sum ||Delta_k||^2 and "
                           "(1/K) sum h_k ~ K^(-1/3) (--running-average)"),
    "igfm": Prediction(
        -0.25, False, "IGFM: T ~ eps^-4, i.e. the min Goldstein-gradient proxy ~ T^(-1/4)"),
    "aid_itd_T": Prediction(
        None, True, "AID/ITD, strongly convex g: hypergradient error linear in T, slope ln q"),
    "soba": Prediction(
        -0.4, False, "SOBA with steps ~ k^(-2/5), k^(-3/5): (1/K) sum ||grad Phi(x_k)||^2 ~ "
                     "K^(-2/5) (hypergrad_norm with --square --running-average)"),
    "saba": Prediction(
        None, True, "SABA at constant steps: ||grad Phi(x_k)||^2 R-linear, slope ln q "
                    "(hypergrad_norm with --square)"),
}


@dataclass
class Fit:
    """Least-squares line through (X, log y) with X = log x (log-log) or x (log-linear)."""

    label: str
    slope: float
    intercept: float
    stderr: float
    r2: float
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    used: np.ndarray = field(repr=False)  # mask of the points inside the fit range

    @property
    def n(self) -> int:
        return int(self.used.sum())

    @property
    def x_range(self) -> tuple[float, float]:
        xs = self.x[self.used]
        return float(xs.min()), float(xs.max())


def fit_slope(x, y, lo=-math.inf, hi=math.inf, loglinear=False, label="") -> Fit:
    """Fit the slope of log y against log x (or x) on lo <= x <= hi.

    Non-positive and non-finite points are left out (they have no logarithm: a converged
    run may hit exactly 0, a diverged one NaN) rather than failing the whole fit.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        used = np.isfinite(x) & np.isfinite(y) & (y > 0) & (x >= lo) & (x <= hi)
        if not loglinear:
            used &= x > 0
    n = int(used.sum())
    if n < 2:
        raise AnalysisError(
            f"{label or 'fit'}: only {n} usable point(s) in x range [{lo:g}, {hi:g}] "
            f"(need >= 2 with positive, finite values)")
    X = x[used] if loglinear else np.log(x[used])
    Y = np.log(y[used])
    if np.ptp(X) == 0:
        raise AnalysisError(f"{label or 'fit'}: all x values are equal, no slope to fit")
    slope, intercept = np.polyfit(X, Y, 1)
    resid = Y - (slope * X + intercept)
    sxx = float(np.sum((X - X.mean()) ** 2))
    syy = float(np.sum((Y - Y.mean()) ** 2))
    stderr = math.sqrt(float(resid @ resid) / (n - 2) / sxx) if n > 2 else math.nan
    r2 = 1.0 - float(resid @ resid) / syy if syy > 0 else 1.0
    return Fit(label, float(slope), float(intercept), stderr, r2, x, y, used)


def verdict(measured: float, predicted: float | None, tolerance: float) -> str:
    """'reproduced' within tolerance; otherwise 'faster' when the measured slope is beyond
    the prediction in its own direction (a steeper decay, or for an error that grows with
    delta, one that vanishes faster as delta -> 0), else 'slower'."""
    if predicted is None:
        return "-"
    if abs(measured - predicted) <= tolerance:
        return "reproduced"
    better = measured > predicted if predicted > 0 else measured < predicted
    return "faster" if better else "slower"


def transform(values: np.ndarray, square=False, how: str | None = None) -> np.ndarray:
    """Apply the metric transformations the theorems are stated in: squares of norms,
    running averages (1/K) sum_{k<K} m_k, and running minima min_{k<K} m_k."""
    v = np.asarray(values, dtype=float)
    if square:
        v = v * v
    if how == "running-average":
        v = np.cumsum(v) / np.arange(1, len(v) + 1)
    elif how == "running-min":
        v = np.minimum.accumulate(v) if len(v) else v
    return v


def resolve_prediction(spec: str | None, q: float | None, loglinear: bool):
    """Return (slope or None, loglinear, description) from a number or a table name."""
    if spec is None:
        return None, loglinear, ""
    try:
        return float(spec), loglinear, "given"
    except ValueError:
        pass
    if spec not in PREDICTIONS:
        raise AnalysisError(f"unknown prediction '{spec}' (a number or one of: "
                            f"{', '.join(PREDICTIONS)})")
    pred = PREDICTIONS[spec]
    if loglinear and not pred.loglinear:
        raise AnalysisError(f"prediction '{spec}' is a log-log rate; drop --loglinear")
    slope = pred.slope
    if slope is None:
        if q is None or not 0 < q < 1:
            raise AnalysisError(f"prediction '{spec}' is ln(q): give the contraction factor "
                                f"with --q (0 < q < 1)")
        slope = math.log(q)
    return slope, pred.loglinear, spec


@dataclass(frozen=True)
class RateCheck:
    """A bound of the table above that a run of one method can be checked against from its
    own trace: which metric, transformed how (the theorems' running averages and minima)."""

    metric: str
    prediction: str
    square: bool = False
    how: str | None = None  #: running-average | running-min

    @property
    def quantity(self) -> str:
        label = f"{self.metric}^2" if self.square else self.metric
        return {"running-average": f"(1/K) sum {label}",
                "running-min": f"min_k {label}"}.get(self.how, label)


def rate_check(algorithm: str, options: dict) -> RateCheck | None:
    """The bound a run of ``algorithm`` (with ``options``, {"-name": value}) is measured
    against in bba compare, or None where its rate needs what a single run does not give (a
    contraction factor q, a sweep over delta or T)."""
    if algorithm == "pgd_qp":
        # avg_delta_sq is already the running mean (1/K) sum ||Delta_k||^2.
        rho = options.get("-alg_rho", "grad2")
        return RateCheck("avg_delta_sq", "pgd_qp_sqrt_h0" if rho == "sqrt_h0" else "pgd_qp_grad2")
    if algorithm == "itd_vi":
        return RateCheck("hypergrad_norm", "itd_vi_outer", square=True, how="running-min")
    if algorithm == "igfm":
        return RateCheck("hypergrad_norm", "igfm", how="running-min")
    return None


def fit_last_decade(run: Run, check: RateCheck) -> Fit:
    """The check's quantity against K over the run's last decade of iterations (all of them
    when it has fewer than ten): the papers' rates are asymptotic, so the first steps, where
    constants dominate, are left out."""
    y = transform(run.metric(check.metric), check.square, check.how)
    k = np.arange(1, len(y) + 1, dtype=float)
    return fit_slope(k, y, lo=max(1.0, len(y) / 10), label=run.label)


def _reduce(values: np.ndarray, how: str) -> float:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return math.nan
    return float({"last": lambda v: v[-1], "min": np.min, "mean": np.mean}[how](finite))


def collect_fits(runs: list[Run], args) -> list[Fit]:
    """One fit per run for trace axes (K, iteration, time); one fit across runs when the
    x-axis is a run parameter (T, delta, ...)."""
    how = _how(args)
    lo, hi = args.range if args.range else (-math.inf, math.inf)
    fits = []
    if args.x in TRACE_AXES:
        for run in runs:
            y = transform(run.metric(args.metric), args.square, how)
            x = np.arange(1, len(y) + 1, dtype=float) if args.x == "K" else run.metric(args.x)
            n = min(len(x), len(y))
            fits.append(fit_slope(x[:n], y[:n], lo, hi, args.loglinear, run.label))
    else:
        pts = sorted((run.param(args.x),
                      _reduce(transform(run.metric(args.metric), args.square, how), args.reduce))
                     for run in runs)
        xs, ys = (np.array(v) for v in zip(*pts))
        fits.append(fit_slope(xs, ys, lo, hi, args.loglinear, f"{len(runs)} runs"))
    return fits


def plot_fits(fits: list[Fit], predicted, loglinear, xlabel, ylabel, out: str):
    """Measured curves, their fitted lines, and the theoretical slope drawn through the
    centre of each fitted range, so a reader sees at once whether the curves are parallel."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for i, fit in enumerate(fits):
        color = f"C{i % 10}"
        ok = np.isfinite(fit.y) & (fit.y > 0) & (np.isfinite(fit.x))
        ax.plot(fit.x[ok], fit.y[ok], color=color, lw=1.2, alpha=0.6,
                marker="o" if ok.sum() < 30 else None, ms=4, label=f"{fit.label}: measured")
        xs = fit.x[fit.used]
        X = xs if loglinear else np.log(xs)
        grid = np.linspace(X.min(), X.max(), 50)
        xg = grid if loglinear else np.exp(grid)
        ax.plot(xg, np.exp(fit.intercept + fit.slope * grid), color=color, lw=2.5, alpha=0.5,
                ls="-.", label=f"fit over range: {fit.slope:.3f}")
        if predicted is not None:
            xm, ym = X.mean(), fit.intercept + fit.slope * X.mean()
            ax.plot(xg, np.exp(ym + predicted * (grid - xm)), "k--", lw=1,
                    label=f"theory {predicted:.3f}" if i == 0 else None)
    ax.set_yscale("log")
    if not loglinear:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _how(args) -> str | None:
    return "running-average" if args.running_average else "running-min" if args.running_min else None


def _metric_label(args) -> str:
    return RateCheck(args.metric, "", args.square, _how(args)).quantity


def _print_table(fits: list[Fit], verdicts: list[str], predicted, source: str, args) -> None:
    mode = "log-linear" if args.loglinear else "log-log"
    pred = ("none" if predicted is None
            else f"{predicted:+.4f} ({source}), tolerance ±{args.tolerance:g}")
    print(f"metric: {_metric_label(args)}   x: {args.x}   fit: {mode}   predicted: {pred}")
    rows, short = [], []
    for f, v in zip(fits, verdicts):
        x0, x1 = f.x_range
        span = x1 - x0 if args.loglinear else math.log10(x1 / x0)
        if not args.loglinear and span < 1:
            short.append(f.label)
        rows.append([f.label, f.n, f"{x0:g}..{x1:g}", span, f.slope, f.stderr, f.r2,
                     predicted, v])
    print(markdown_table(["run", "points", "x range", "x span" if args.loglinear else "decades",
                          "measured", "stderr", "R^2", "predicted", "verdict"], rows))
    if short:
        print(f"note: fit spans less than a decade for {', '.join(short)}; "
              f"docs/algorithms.md section 8 judges rates over at least one decade")


def _json(fits: list[Fit], verdicts: list[str], predicted, source: str, args) -> str:
    return to_json({
        "metric": args.metric, "transform": _metric_label(args), "x": args.x,
        "mode": "log-linear" if args.loglinear else "log-log", "predicted": predicted,
        "prediction": source or None, "tolerance": args.tolerance,
        "fits": [{"label": f.label, "slope": f.slope, "stderr": f.stderr, "r2": f.r2,
                  "intercept": f.intercept, "points": f.n, "x_min": f.x_range[0],
                  "x_max": f.x_range[1], "verdict": v} for f, v in zip(fits, verdicts)]})


def run(args) -> int:
    if args.list_predictions:
        print(markdown_table(["name", "slope", "mode", "quantity"],
                             [[n, "ln q" if p.slope is None else f"{p.slope:+.4f}",
                               "log-linear" if p.loglinear else "log-log", p.description]
                              for n, p in PREDICTIONS.items()]))
        return 0
    if not args.paths:
        raise AnalysisError("no result files given")
    if not args.metric:
        raise AnalysisError("--metric is required (e.g. --metric hypergrad_norm)")
    if args.range and args.range[0] > args.range[1]:
        raise AnalysisError(f"--range {args.range[0]:g} {args.range[1]:g}: LO must be <= HI")
    predicted, args.loglinear, source = resolve_prediction(args.predict, args.q, args.loglinear)
    fits = collect_fits(load_runs(args.paths), args)
    verdicts = [verdict(f.slope, predicted, args.tolerance) for f in fits]
    if args.plot:
        plot_fits(fits, predicted, args.loglinear, args.x, _metric_label(args), args.plot)
    if args.json:
        print(_json(fits, verdicts, predicted, source, args))
    else:
        _print_table(fits, verdicts, predicted, source, args)
    return 1 if args.strict and "slower" in verdicts else 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "rates", help="fit convergence slopes and compare with theory",
        description="Fit the log-log (or log-linear) slope of a trace metric against the "
                    "iteration count K, the trace iteration/time, or a run parameter "
                    "across files (attribute or option, e.g. alg_inner_iters or alg_delta), "
                    "and compare with a predicted rate (docs/algorithms.md section 8). Verdict: "
                    "reproduced (within tolerance), faster (better than predicted), slower.",
        formatter_class=HelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="result files or directories")
    p.add_argument("--metric", "-m", help="trace metric, e.g. hypergrad_norm, avg_delta_sq")
    p.add_argument("--x", default="K",
                   help="x-axis: K (1-based trace row = iterations done), iteration, time, "
                        "or a run parameter NAME (attribute NAME or option -NAME; one point "
                        "per run)")
    p.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"),
                   help="fit only LO <= x <= HI (in x units; 'inf' allowed)")
    p.add_argument("--loglinear", action="store_true",
                   help="fit log(metric) against x (R-linear rates: slope ln q)")
    p.add_argument("--predict", metavar="SLOPE|NAME",
                   help="predicted slope as a number or a name (see --list-predictions)")
    p.add_argument("--q", type=float, help="contraction factor for ln(q) predictions")
    p.add_argument("--tolerance", type=float, default=0.15, help="verdict tolerance on the slope")
    avg = p.add_mutually_exclusive_group()
    avg.add_argument("--running-average", action="store_true",
                     help="fit (1/K) sum_{k<K} m_k instead of m_K")
    avg.add_argument("--running-min", action="store_true", help="fit min_{k<K} m_k instead of m_K")
    p.add_argument("--square", action="store_true", help="square the metric first (norm -> norm^2)")
    p.add_argument("--reduce", choices=("last", "min", "mean"), default="last",
                   help="per-run value when x is a run parameter")
    p.add_argument("--plot", metavar="PNG", help="write measured curve and theoretical slope")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--strict", action="store_true", help="exit 1 if any verdict is 'slower'")
    p.add_argument("--list-predictions", action="store_true", help="print the built-in rate table")
    p.set_defaults(func=run)
