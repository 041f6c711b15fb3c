"""`bba rates` recovers known slopes from synthetic traces and judges them correctly."""

import json
import math

import numpy as np
import pytest
from synth import noisy, write_run

from bilevel_analysis.rates import transform, verdict

K = np.arange(1, 3001, dtype=float)


def fit(bba, *args):
    rc, out, err = bba("rates", "--json", *args)
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.parametrize("name, slope", [("itd_vi_outer", -1.0), ("pgd_qp_grad2", -2 / 3),
                                         ("pgd_qp_sqrt_h0", -1 / 3)])
def test_loglog_slopes_recovered(tmp_path, bba, name, slope):
    f = write_run(tmp_path / "r.h5", trace={"avg_delta_sq": noisy(3.0 * K ** slope, 0.01, 1)})
    res = fit(bba, f, "-m", "avg_delta_sq", "--predict", name)
    (one,) = res["fits"]
    assert res["predicted"] == pytest.approx(slope)
    assert abs(one["slope"] - slope) < 0.02
    assert one["verdict"] == "reproduced" and one["points"] == len(K)


def test_loglinear_rate_recovered(tmp_path, bba):
    q = 0.9
    f = write_run(tmp_path / "r.h5",
                  trace={"lower_residual": noisy(5.0 * q ** K[:200], 0.01, 2)})
    res = fit(bba, f, "-m", "lower_residual", "--predict", "itd_vi_inner", "--q", q)
    assert res["mode"] == "log-linear"  # implied by the named prediction
    assert abs(res["fits"][0]["slope"] - math.log(q)) < 0.02
    assert res["fits"][0]["verdict"] == "reproduced"


def test_running_average_recovered(tmp_path, bba):
    # m_k chosen so that the running average A_K = (1/K) sum_{k<K} m_k = 2 K^{-2/3} exactly,
    # then +-20 % per-iteration noise. m_K itself is ~ (2/3) K^{-2/3}: the same slope, a
    # third of the prefactor, so the fitted level shows that the average was really taken.
    avg = 2.0 * K ** (-2 / 3)
    m = K * avg - np.concatenate([[0.0], (K * avg)[:-1]])
    m *= 1 + 0.2 * np.random.default_rng(3).uniform(-1, 1, len(m))
    f = write_run(tmp_path / "r.h5", trace={"avg_h": m})
    res = fit(bba, f, "-m", "avg_h", "--running-average", "--range", 100, "inf",
              "--predict", "pgd_qp_grad2")
    assert abs(res["fits"][0]["slope"] + 2 / 3) < 0.02
    at_1000 = math.exp(res["fits"][0]["intercept"] + res["fits"][0]["slope"] * math.log(1000))
    assert at_1000 == pytest.approx(2.0 * 1000 ** (-2 / 3), rel=0.05)
    assert res["fits"][0]["verdict"] == "reproduced"


def test_transforms():
    np.testing.assert_allclose(transform([1, 2, 3, 6], how="running-average"), [1, 1.5, 2, 3])
    np.testing.assert_allclose(transform([3, 1, 2, 0.5], how="running-min"), [3, 1, 1, 0.5])
    np.testing.assert_allclose(transform([-2, 3], square=True), [4, 9])


def test_range_excludes_floor(tmp_path, bba):
    # 1/K down to a bias floor at K = 100, as ITD-VI's outer loop with finite T.
    f = write_run(tmp_path / "r.h5", trace={"hypergrad_norm": np.maximum(1 / K, 1e-2)})
    whole = fit(bba, f, "-m", "hypergrad_norm", "--predict", -1)["fits"][0]
    early = fit(bba, f, "-m", "hypergrad_norm", "--predict", -1, "--range", 1, 100)["fits"][0]
    assert early["slope"] == pytest.approx(-1.0, abs=1e-9) and early["verdict"] == "reproduced"
    assert whole["slope"] > -0.5 and whole["verdict"] == "slower"


def test_parameter_across_files_from_options(tmp_path, bba):
    # FFO oracle: error = 0.7 delta, one run per delta, delta read from the options string.
    for i, delta in enumerate(np.logspace(-4, -1, 7)):
        write_run(tmp_path / f"d{i}.h5", options=f"-alg_delta {delta!r} -output d{i}.h5",
                  trace={"hypergrad_error": noisy(np.full(5, 0.7 * delta), 0.01, i)})
    res = fit(bba, tmp_path, "-m", "hypergrad_error", "--x", "alg_delta", "--predict", "ffo_delta")
    (one,) = res["fits"]
    assert one["points"] == 7 and abs(one["slope"] - 1.0) < 0.02
    assert one["verdict"] == "reproduced"


@pytest.mark.parametrize("measured, predicted, expected", [
    (-1.1, -1.0, "reproduced"), (-1.3, -1.0, "faster"), (-0.7, -1.0, "slower"),
    (1.4, 1.0, "faster"), (0.5, 1.0, "slower"), (0.9, 1.0, "reproduced")])
def test_verdict(measured, predicted, expected):
    assert verdict(measured, predicted, 0.15) == expected


def test_strict_fails_on_slower_and_table_output(tmp_path, bba):
    f = write_run(tmp_path / "r.h5", trace={"hypergrad_norm": K ** (-1 / 3)})
    rc, out, _ = bba("rates", f, "-m", "hypergrad_norm", "--predict", "itd_vi_outer", "--strict")
    assert rc == 1 and "slower" in out and "-0.3333" in out
    rc, out, _ = bba("rates", f, "-m", "hypergrad_norm", "--predict", -0.3, "--strict")
    assert rc == 0 and "reproduced" in out


def test_plot_written(tmp_path, bba):
    f = write_run(tmp_path / "r.h5", trace={"hypergrad_norm": K ** -0.5})
    png = tmp_path / "fit.png"
    rc, _, err = bba("rates", f, "-m", "hypergrad_norm", "--predict", -0.5, "--plot", png)
    assert rc == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.parametrize("args, message", [
    (["-m", "nonexistent"], "no trace metric 'nonexistent'"),
    (["-m", "hypergrad_norm", "--predict", "nope"], "unknown prediction 'nope'"),
    (["-m", "hypergrad_norm", "--predict", "itd_vi_inner"], "--q"),
    (["-m", "hypergrad_norm", "--range", 5000, 6000], "only 0 usable point"),
    (["-m", "hypergrad_norm", "--x", "T"], "no attribute 'T'"),
])
def test_bad_input_one_line_exit_2(tmp_path, bba, args, message):
    f = write_run(tmp_path / "r.h5")
    rc, out, err = bba("rates", f, *args)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("bba rates: error:") and message in err
