"""Table 2's distance to the optimum: each method's final phi against phi* of its instance.

adversarial_ls's hyper-objective has a closed form (docs/igfm-hyper-objective.md): where
m_i > 0 the lower level pins y_i = a_i x, so phi(x) = (1/2n) (lambda/(1+lambda))^2
sum_{m_i>0} (a_i x - b_i)^2, and phi* is a least-squares fit on that weighted half of the
data. The instance of a run (A, b, m, lambda) is exported by the binary from the run's seed
and problem options (``-export_problem``); phi* and each run's phi(x) are computed here with
numpy. IGFM's output of its Theorem 6.2, the iterate drawn uniformly (``/state/x_uniform``),
is evaluated beside its last iterate.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from .common import AnalysisError, markdown_table
from .status import RAN_TO_END

PROBLEM = "adversarial_ls"


def instance_options(run) -> list:
    """The options that make a run's instance: its seed and its -problem_* options."""
    words = ["-problem", PROBLEM, "-seed", str(run.attr("seed", 0))]
    for name, value in run.options:
        if name.startswith("-problem_"):
            words += [name] + ([value] if value is not None else [])
    return words


class Instances:
    """Exported instances, one per distinct option list, in a temporary directory."""

    def __init__(self, binary: Path, directory: Path):
        self.binary, self.directory, self.cache = binary, directory, {}

    def get(self, words: list):
        key = tuple(words)
        if key not in self.cache:
            import h5py

            path = self.directory / f"instance{len(self.cache)}.h5"
            res = subprocess.run([str(self.binary), *words, "-export_problem", str(path)],
                                 capture_output=True, text=True,
                                 env={**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1",
                                      "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
            if res.returncode != 0:
                why = (res.stderr.strip() or res.stdout.strip()).splitlines()
                raise AnalysisError(f"exporting {' '.join(words)}: "
                                    f"{why[-1] if why else res.returncode}")
            with h5py.File(path, "r") as f:
                g = f["problem"]
                self.cache[key] = (g["A"][()], g["b"][()], g["m"][()],
                                   float(g.attrs["lambda"]))
        return self.cache[key]


def phi(instance, x) -> float:
    A, b, m, lam = instance
    r = (A @ x - b)[m > 0]
    return (lam / (1 + lam)) ** 2 * float(r @ r) / (2 * len(b))


def phi_star(instance) -> float:
    A, b, m, _ = instance
    weighted = m > 0
    return phi(instance, np.linalg.lstsq(A[weighted], b[weighted], rcond=None)[0])


def gap_tables(runs, binary: Path) -> str:
    import h5py

    runs = [r for r in runs if r.attr("problem") == PROBLEM and r.attr("status") in RAN_TO_END]
    if not runs:
        raise AnalysisError(f"no finished {PROBLEM} runs")
    if not os.access(binary, os.X_OK):
        raise AnalysisError(f"{binary}: not an executable (the instances are exported by it; "
                            f"build it, or pass --binary)")
    stars, gaps, uniform = {}, defaultdict(list), []
    with tempfile.TemporaryDirectory() as tmp:
        instances = Instances(binary, Path(tmp))
        for run in sorted(runs, key=lambda r: (int(r.attr("seed", 0)), r.label)):
            words = instance_options(run)
            instance = instances.get(words)
            star = stars.setdefault(tuple(words), phi_star(instance))
            with h5py.File(run.path, "r", locking=False) as f:
                g = f[run.group]
                final = phi(instance, g["x"][()])
                if "state/x_uniform" in g:
                    uniform.append([run.label, int(g["state"].attrs["igfm_uniform_index"]),
                                    final, phi(instance, g["state/x_uniform"][()])])
            gaps[str(run.attr("algorithm"))].append((final - star) / star)
    per_seed = ", ".join(f"{dict(zip(k[::2], k[1::2]))['-seed']}: {v:.5f}"
                         for k, v in stars.items())
    rows = [[alg.upper(), len(g), f"{100 * statistics.fmean(g):.2f} %", f"{100 * max(g):.2f} %"]
            for alg, g in sorted(gaps.items(), key=lambda kv: statistics.fmean(kv[1]))]
    out = (f"phi* per seed: {per_seed}\n\n"
           + markdown_table(["method", "runs", "mean (phi - phi*)/phi*", "max"], rows))
    if uniform:
        out += "\n\nIGFM's uniformly drawn iterate (Theorem 6.2's output)\n\n" + markdown_table(
            ["run", "uniform index", "phi(last)", "phi(x_uniform)"], uniform)
    return out
