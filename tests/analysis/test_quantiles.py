"""`bba quantiles`: the squared metric, total oracle calls, medians over seeds at a threshold,
final-value quantiles, the ordering of methods, and the figure's axes."""

import json
import struct

import numpy as np
from synth import write_run

K = np.arange(50.0)
#: per method: ||grad Phi|| = rate^k (1 + seed); a rate of 1 never reaches the threshold.
RATES = {"amigo": 1.0, "soba": 0.9, "saba": 0.5}


def study(d):
    for alg, rate in RATES.items():
        for seed in range(5):
            write_run(d / f"{alg}-s{seed}.h5", problem="finite_sum_quadratic", algorithm=alg,
                      seed=seed, options=f"-problem finite_sum_quadratic -algorithm {alg} "
                                         f"-seed {seed}",
                      trace={"iteration": K, "time": 0.01 * (K + 1),
                             "hypergrad_norm": rate ** K * (1 + seed),
                             "samples": 128.0 * (K + 1),
                             "calls_lower_gradient": K + 1,
                             "calls_hessian_vector": 2.0 * (K + 1)})
    return d


def png_width(path):
    with open(path, "rb") as f:
        return struct.unpack(">I", f.read(24)[16:20])[0]


def test_ordering_and_medians_at_the_threshold(tmp_path, bba):
    d = study(tmp_path / "res")
    out = tmp_path / "q.png"
    rc, text, err = bba("quantiles", d, "-m", "hypergrad_norm", "--square", "--threshold",
                        "1e-2", "--out", out, "--json")
    assert rc == 0, err
    rows = json.loads(text)["finite_sum_quadratic"]
    assert [r["method"] for r in rows] == ["saba", "soba", "amigo"]
    saba, soba, amigo = rows
    # saba: 0.5^k (1 + s) <= 0.1 first at k = 4, 5, 5, 6, 6 (seeds 0..4): median k = 5, the
    # 6th row: time 0.06, 6 * 128 samples, 3 calls per iteration.
    assert saba["reached"] == 5
    assert saba["time_to_threshold"] == 0.06
    assert saba["samples_to_threshold"] == 768
    assert saba["calls_total_to_threshold"] == 18
    # soba: 0.9^k (1 + s) <= 0.1 first at k = 22, 29, 33, 35, 38: median 33
    assert soba["samples_to_threshold"] == 128 * 34
    assert amigo["reached"] == 0 and amigo["time_to_threshold"] is None
    finals = (0.9 ** 49 * (1 + np.arange(5))) ** 2  # squared, not the norm
    assert np.isclose(soba["final_median"], np.median(finals))
    assert np.isclose(soba["final_q20"], np.percentile(finals, 20))
    assert np.isclose(soba["final_q80"], np.percentile(finals, 80))
    assert png_width(out) == 3 * 6 * 80  # time, samples, all oracle calls


def test_without_threshold_orders_by_final_value_and_prints_a_table(tmp_path, bba):
    d = study(tmp_path / "res")
    rc, text, err = bba("quantiles", d, "-m", "hypergrad_norm", "--x", "time", "iteration")
    assert rc == 0, err
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert "median iteration" in lines[0]
    assert [line.split("|")[2].strip() for line in lines[1:]] == ["saba", "soba", "amigo"]


def test_missing_metric_is_an_input_error(tmp_path, bba):
    d = study(tmp_path / "res")
    rc, _, err = bba("quantiles", d, "-m", "test_accuracy")
    assert rc == 2 and "no trace column 'test_accuracy'" in err
