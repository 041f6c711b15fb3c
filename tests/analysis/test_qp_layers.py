"""bba training / bba fig3 (the FFO-layer paper): per-epoch means, oracle labels, the Fig. 3 table."""

import json

import numpy as np
from synth import write_run


def qp_layer_run(path, oracle, losses):
    rows = len(losses)
    k = np.arange(rows, dtype=float)
    return write_run(path, algorithm="qp_layer", problem="dfl_qp",
                     options=f"-problem dfl_qp -algorithm qp_layer -alg_oracle {oracle}",
                     trace=dict(train_loss=np.asarray(losses, dtype=float), epoch=(k + 1) / 4,
                                forward_time=np.full(rows, 0.5), backward_time=np.full(rows, 0.25),
                                test_loss=np.where(k % 4 == 3, -1.0 - k, np.nan)))


def test_curves_table_and_plot(bba, tmp_path):
    qp_layer_run(tmp_path / "kkt.h5", "kkt", [1, 2, 3, 4, 5, 6, 7, 8])
    qp_layer_run(tmp_path / "ffo.h5", "ffo", [8, 7, 6, 5, 4, 3, 2, 1])
    png = tmp_path / "c.png"
    rc, out, _ = bba("training", tmp_path / "kkt.h5", tmp_path / "ffo.h5", "--png", png)
    assert rc == 0 and png.stat().st_size > 0
    lines = {line.split()[1]: line.split() for line in out.splitlines()[1:]}
    # Last epoch (rows 5..8): mean 6.5 for kkt, 2.5 for ffo; last test_loss -8; times summed.
    assert float(lines["kkt"][4]) == 6.5 and float(lines["ffo"][4]) == 2.5
    assert float(lines["kkt"][5]) == -8.0
    assert np.isnan(float(lines["kkt"][6]))  # no test_error in a dfl_qp run
    assert float(lines["kkt"][8]) == 4.0 and float(lines["kkt"][9]) == 2.0


def test_curves_rejects_other_algorithms(bba, tmp_path):
    f = write_run(tmp_path / "aid.h5")
    rc, _, err = bba("training", f)
    assert rc == 2 and "accepted: qp_layer runs" in err


def test_fig3_table(bba, tmp_path):
    row = dict(n=100, inequalities=100, forward_seconds=1.0, active_fraction=0.25,
               ipm_iterations=11, backward_seconds=dict(kkt=0.6, ffoqp=0.2, ffo=0.1),
               cosine_to_kkt=dict(kkt=1.0, ffoqp=0.99, ffo=0.98),
               relative_error_to_kkt=dict(kkt=0.0, ffoqp=0.1, ffo=0.2))
    f = tmp_path / "np1.json"
    f.write_text(json.dumps(dict(benchmark="qp_layer_fig3", nranks=1, batch=32, rows=[row])))
    rc, out, _ = bba("fig3", f)
    assert rc == 0
    assert "| 1 | 100 | 1.000 | 0.6000 | 0.2000 | 0.1000 | 3.00 | 1.0e-02 | 2.0e-02 | 0.250 |" in out
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert bba("fig3", bad)[0] == 2
    # --bounds needs the per-QP fields of the bound measurements; this file predates them.
    assert bba("fig3", "--bounds", f)[0] == 2
    timed = dict(row, qps_per_rank=2, forward_cpu_seconds=0.8, forward_flop_bound_seconds=0.5,
                 forward_flop_bound_cpu_seconds=0.4, forward_kernel_bound_cpu_seconds=0.6,
                 backward_cpu_seconds=dict(kkt=0.4, ffoqp=0.004, ffoqp_refactor=0.04, ffo=0.02))
    reduced = dict(timed, newton_reduction="multipliers", forward_to_y_flop_bound_cpu_seconds=1.2)
    # A file from before the reduction to the multipliers (its bound is the to-y bound), then one
    # after it.
    for bounded, expected in [
            (timed, "| 2 | 100 | 7.5 | 11.0 | y | 0.400 | 0.200 | 0.50, 0.50 | 0.75 | 0.200 | 0.50 | "
                    "0.2000 | 0.0020 | 3.0, 100.0 | 10.0 | 1.0e-02 |"),
            (reduced, "| 2 | 100 | 7.5 | 11.0 | multipliers | 0.400 | 0.200 | 0.50, 0.50 | 0.75 | "
                      "0.600 | 1.50 | 0.2000 | 0.0020 |")]:
        f.write_text(json.dumps(dict(benchmark="qp_layer_fig3", nranks=2, batch=32,
                                     load_average=[7.5, 7, 6], rows=[bounded])))
        rc, out, _ = bba("fig3", "--bounds", f)
        assert rc == 0
        assert expected in out
