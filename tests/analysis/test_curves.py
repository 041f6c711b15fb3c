"""`bba curves`: last reported values of thinned metrics, time per iteration, the figure."""

import json

import numpy as np
from synth import write_run


def test_table_uses_last_reported_value_and_time_per_iteration(bba, tmp_path):
    nan = float("nan")
    acc = [0.5, nan, nan, 0.7, nan, 0.8, nan]  # -report_every 2/3 style gaps, last row NaN
    write_run(tmp_path / "a.h5", trace={"test_accuracy": acc}, time_per_iter=0.5,
              algorithm="pgd_qp")
    write_run(tmp_path / "b.h5", trace={"test_accuracy": [0.1, 0.2, 0.3]}, time_per_iter=2.0,
              algorithm="aid")
    png = tmp_path / "fig.png"
    rc, out, err = bba("curves", tmp_path, "--metrics", "test_accuracy", "--out", png, "--json")
    assert rc == 0, err
    rows = {r["run"]: r for r in json.loads(out)}
    assert rows["pgd_qp"]["test_accuracy"] == 0.8 and rows["pgd_qp"]["iterations"] == 7
    assert np.isclose(rows["pgd_qp"]["time_per_iteration"], 0.5)
    assert rows["aid"]["test_accuracy"] == 0.3
    assert np.isclose(rows["aid"]["time_per_iteration"], 2.0)
    assert png.stat().st_size > 10_000


def test_missing_metric_is_one_line_error(bba, tmp_path):
    write_run(tmp_path / "a.h5")
    rc, out, err = bba("curves", tmp_path / "a.h5", "--metrics", "validation_loss")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "no trace metric 'validation_loss'" in err
