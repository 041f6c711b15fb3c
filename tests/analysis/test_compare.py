"""`bba compare`: variants and their labels, median and band over seeds, time to target,
broken and foreign files, scaling; and the page opened in a real headless Chromium."""

import base64
import json
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from synth import write_run

from bilevel_analysis.compare import group_variants, load, quantile_curves
from headless import CHROMIUM, open_page

ARTIFACTS = Path(os.environ.get("BBA_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] /
                                "build" / "test-artifacts"))


def campaign_dir(d):
    """Two methods x three seeds on one problem, one method at two step sizes on another,
    a strong-scaling pair, a broken file and an HDF5 file that is not a run."""
    k = np.arange(50.0)
    for seed in range(3):
        for alg, rate in (("aid", 0.8), ("itd", 0.6)):
            write_run(d / f"q-{alg}-s{seed}.h5", problem="quadratic", algorithm=alg, seed=seed,
                      options=f"-problem quadratic -algorithm {alg} -seed {seed} -output x.h5",
                      validity="valid" if seed else "suspect: ksp failed in 2 iterations",
                      trace={"iteration": k, "time": 0.01 * (k + 1) * (1 + 0.1 * seed),
                             "upper_objective": 1 + rate ** k * (1 + seed),
                             "hypergrad_norm": rate ** k * (1 + 0.1 * seed),
                             "lower_residual": 1e-3 * rate ** k})
    for step in ("0.1", "0.01"):
        write_run(d / f"h-{step}.h5", problem="hyperclean", algorithm="pgd_qp",
                  options=f"-problem hyperclean -algorithm pgd_qp -alg_step {step}",
                  trace={"test_accuracy": np.linspace(0.5, 0.8 if step == "0.1" else 0.7, 20)})
    for n, t in ((1, 0.2), (2, 0.11)):
        write_run(d / f"scale-n{n}.h5", problem="cournot", algorithm="itd_vi", nranks=n,
                  options="-problem cournot -algorithm itd_vi", time_per_iter=t)
    (d / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n but truncated")
    with h5py.File(d / "foreign.h5", "w") as f:
        f["data"] = np.zeros(3)
    return d


def test_variants_name_the_options_that_differ(tmp_path):
    runs, skipped = load([campaign_dir(tmp_path)])
    problems = group_variants(runs)
    assert [v.label for v in problems["quadratic"]] == ["aid", "itd"]  # seeds merged
    assert [len(v.runs) for v in problems["quadratic"]] == [3, 3]
    assert sorted(v.label for v in problems["hyperclean"]) == ["pgd_qp (alg_step=0.01)",
                                                               "pgd_qp (alg_step=0.1)"]
    assert [v.label for v in problems["cournot"]] == ["itd_vi (np=1)", "itd_vi (np=2)"]
    reasons = dict((Path(f).name.split(":")[0], why) for f, why in skipped)
    assert set(reasons) == {"broken.h5", "foreign.h5"}
    assert "no run found" in reasons["foreign.h5"]


def test_median_and_band_over_seeds():
    x = np.arange(1.0, 11.0)
    series = [(x, x * s) for s in (1.0, 2.0, 3.0, 4.0, 5.0)]
    gx, med, low, high = quantile_curves(series)
    assert gx[0] == 1 and gx[-1] == 10
    np.testing.assert_allclose(med, 3 * gx)
    np.testing.assert_allclose(low, 1.8 * gx)   # 20 % of 1..5 (linear interpolation)
    np.testing.assert_allclose(high, 4.2 * gx)
    short = series + [(x[:5], x[:5])]  # a run that stopped early bounds the range
    assert quantile_curves(short)[0][-1] == 5


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """One page (PNGs beside it) for the tests that read it; figures take seconds to draw."""
    from bilevel_analysis.cli import main

    tmp = tmp_path_factory.mktemp("compare")
    out = tmp / "page" / "compare.html"
    d = campaign_dir(tmp / "res")
    assert main(["compare", str(d), "-o", str(out), "--target", "hypergrad_norm=1e-3,1e-30",
                 "--target", "test_accuracy=0.75"]) == 0
    return out


def test_page_has_targets_verdicts_scaling_and_skips(page, capsys):
    out = page
    page = out.read_text()
    assert "broken.h5" in page and "foreign.h5" in page
    # aid's seeds (1, 1.1, 1.2) * 0.8^k reach 1e-3 at k = 31, 32, 32: 32, 33, 33 iterations
    # done, median 33; 1e-30 never.
    row = re.search(r"hypergrad_norm &lt;= 0.001</td><td>aid</td><td>(\d)/3</td>"
                    r"<td class=\"num\">([\d.e-]+)</td><td class=\"num\">([\d.]+)</td>", page)
    assert row and row.group(1) == "3" and float(row.group(3)) == 33.0
    assert "hypergrad_norm &lt;= 1e-30</td><td>aid</td><td>0/3</td>" in page
    assert "test_accuracy &gt;= 0.75</td><td>pgd_qp (alg_step=0.1)</td><td>1/1</td>" in page
    assert "test_accuracy &gt;= 0.75</td><td>pgd_qp (alg_step=0.01)</td><td>0/1</td>" in page
    assert '<td class="suspect">suspect: ksp failed in 2 iterations</td>' in page
    assert page.count('<td class="valid">valid</td>') == 4
    assert "<h2 id='scaling'>" in page and "strong" in page
    figures = re.findall(r"<img src='([^']+)'", page)
    assert len(figures) == 4  # three problems and the scaling figure
    for src in figures:
        assert (out.parent / src).read_bytes()[:4] == b"\x89PNG"


def test_embedded_page_is_one_file(tmp_path, bba):
    d = campaign_dir(tmp_path / "res")
    out = tmp_path / "one.html"
    assert bba("compare", d, "-o", out, "--embed")[0] == 0
    srcs = re.findall(r"<img src='([^']+)'", out.read_text())
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert base64.b64decode(srcs[0].split(",", 1)[1])[:4] == b"\x89PNG"
    assert not (tmp_path / "one_files").exists()


def test_campaign_manifest_gives_title_and_targets(tmp_path, bba):
    d = campaign_dir(tmp_path / "res")
    (d / "campaign.json").write_text(json.dumps({
        "title": "Methods on a quadratic", "targets": {"hypergrad_norm": [1e-2]},
        "runs": [{"file": "scale-n1.h5", "study": "cournot-strong"},
                 {"file": "scale-n2.h5", "study": "cournot-strong"}]}))
    out = tmp_path / "m.html"
    assert bba("compare", d, "-o", out)[0] == 0
    page = out.read_text()
    assert "<h1>Methods on a quadratic</h1>" in page and "hypergrad_norm &lt;= 0.01" in page
    assert "<td>cournot-strong</td><td>strong</td>" in page


def test_nothing_readable_is_an_error(tmp_path, bba):
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")
    rc, _, err = bba("compare", tmp_path, "-o", tmp_path / "x.html")
    assert rc == 2 and "no readable bilevelbench run" in err and "broken.h5" in err


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/install-deps)")
def test_page_opens_in_headless_chromium(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "compare-page.png"
    report = open_page(page, shot)
    assert len(report.images) == 4
    assert all(i["ok"] and i["width"] >= 800 for i in report.images), report.images
    assert report.errors == []
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 50_000


def png_width(path):
    return int.from_bytes(Path(path).read_bytes()[16:20], "big")


def test_oracle_call_columns_add_an_axis_and_a_target_column(tmp_path, bba):
    """Traces with calls_* columns (cumulative calls per row) that count something get one more
    x-axis per column and its median at the target in the time-to-target table; a kind never
    called (all 0) and qp_layer's oracle_error (an accuracy, not a count) get none; traces
    without counts keep two axes."""
    k = np.arange(40.0)
    for seed in range(3):
        write_run(tmp_path / "res" / f"o{seed}.h5", problem="quadratic", algorithm="aid",
                  seed=seed, options=f"-problem quadratic -algorithm aid -seed {seed}",
                  trace={"iteration": k, "time": 0.01 * (k + 1),
                         "hypergrad_norm": 0.5 ** k * (1 + seed),
                         "calls_hessian_vector": 7.0 * (k + 1),
                         "calls_cross_derivative": 0.0 * k,
                         "oracle_error": 1e-3 * (k + 1)})
    out = tmp_path / "o.html"
    rc, _, err = bba("compare", tmp_path / "res", "-o", out, "--target", "hypergrad_norm=1e-3")
    assert rc == 0, err
    page = out.read_text()
    assert "<th>median calls_hessian_vector</th>" in page
    assert "calls_cross_derivative" not in page and "median oracle_error" not in page
    # seeds reach 1e-3 at k = 10, 11, 11 (0.5^k (1 + seed)): 12 iterations done, 84 calls
    row = re.search(r"aid</td><td>3/3</td><td class=\"num\">[\d.e-]+</td><td class=\"num\">"
                    r"([\d.]+)</td><td class=\"num\">([\d.]+)</td>", page)
    assert row and (float(row.group(1)), float(row.group(2))) == (12.0, 84.0)
    assert png_width(tmp_path / "o_files" / "quadratic_convergence.png") == 1800  # 3 axes
    plain = tmp_path / "p.html"
    for f in (tmp_path / "res").glob("*.h5"):
        with h5py.File(f, "a") as h:
            del h["trace/calls_hessian_vector"]
    assert bba("compare", tmp_path / "res", "-o", plain)[0] == 0
    assert "calls_" not in plain.read_text()
    assert png_width(tmp_path / "p_files" / "quadratic_convergence.png") == 1200


def test_samples_column_is_an_axis_of_samples_touched(tmp_path, bba):
    """A finite-sum problem's trace has `samples`: one more axis, labelled samples touched."""
    k = np.arange(20.0)
    write_run(tmp_path / "res" / "s.h5", problem="logreg_hyper", algorithm="aid", seed=0,
              options="-problem logreg_hyper -algorithm aid",
              trace={"iteration": k, "time": 0.01 * (k + 1), "hypergrad_norm": 0.5 ** k,
                     "calls_lower_gradient": 3.0 * (k + 1), "samples": 300.0 * (k + 1)})
    out = tmp_path / "s.html"
    rc, _, err = bba("compare", tmp_path / "res", "-o", out, "--target", "hypergrad_norm=1e-3")
    assert rc == 0, err
    assert "<th>median samples</th>" in out.read_text()
    assert png_width(tmp_path / "s_files" / "logreg_hyper_convergence.png") == 2400  # 4 axes


def test_rates_against_the_papers_bounds(tmp_path, bba):
    """pgd_qp with avg_delta_sq = K^(-2/3) meets Theorem 4.2's rate (reproduced) and beats
    Theorem 4.5's K^(-1/3) (faster); an IGFM run whose hypergradient does not fall misses
    its T^(-1/4) (slower); a method without a single-run bound (aid) gets no row."""
    K = np.arange(1.0, 401.0)
    for rho in ("grad2", "sqrt_h0"):
        for seed in range(2):
            write_run(tmp_path / f"pgd-{rho}-{seed}.h5", problem="toy_sc", algorithm="pgd_qp",
                      seed=seed, options=f"-problem toy_sc -algorithm pgd_qp -alg_rho {rho}",
                      trace={"avg_delta_sq": (1 + seed) * K ** (-2 / 3)})
    write_run(tmp_path / "igfm.h5", problem="toy_sc", algorithm="igfm",
              options="-problem toy_sc -algorithm igfm", trace={"hypergrad_norm": 0 * K + 1})
    write_run(tmp_path / "aid.h5", problem="toy_sc", algorithm="aid",
              options="-problem toy_sc -algorithm aid")
    out = tmp_path / "r.html"
    rc, _, err = bba("compare", tmp_path, "-o", out)
    assert rc == 0, err
    table = out.read_text().split("Rates against the papers' bounds", 1)[1].split("</table>")[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<tr><td>([^<]+)</td>(.*?)</tr>", table)}
    assert set(rows) == {"pgd_qp (alg_rho=grad2)", "pgd_qp (alg_rho=sqrt_h0)", "igfm"}
    assert rows["pgd_qp (alg_rho=grad2)"].startswith(
        '<td>avg_delta_sq</td><td>2/2</td><td>40..400</td><td class="num">-0.666667</td>')
    assert rows["pgd_qp (alg_rho=grad2)"].endswith("<td>pgd_qp_grad2</td><td>reproduced</td>")
    assert rows["pgd_qp (alg_rho=sqrt_h0)"].endswith("<td>pgd_qp_sqrt_h0</td><td>faster</td>")
    assert rows["igfm"].endswith("<td>igfm</td><td>slower</td>")


def test_scaling_figure_has_the_cluster_model(tmp_path, bba):
    """A strong setting at 1 and 2 ranks gets bba model's prediction: the page's model rows
    are what bba model --json predicts for the same runs and machine."""
    timing = {"VecDot": (100 * 20, 0.1, 0.0)}
    ledger = {"allreduce": (0, 0), "gather": (0, 0)}
    for n, t in ((1, 0.2), (2, 0.12)):
        write_run(tmp_path / "res" / f"n{n}.h5", n=20, time_per_iter=t, nranks=n,
                  timing=timing, communication=ledger, problem="cournot", algorithm="itd_vi",
                  options="-problem cournot -algorithm itd_vi")
    machine = ["--stream-gbs", "10", "8", "--allreduce-latency", "1e-3"]
    out = tmp_path / "s.html"
    rc, _, err = bba("compare", tmp_path / "res", "-o", out, *machine)
    assert rc == 0, err
    rc, model, err = bba("model", tmp_path / "res", *machine, "--json")
    assert rc == 0, err
    at_1024 = json.loads(model)["rows"][-1]
    row = re.search(r"<td>cluster model</td><td class=\"num\">1024</td><td>—</td><td>—</td>"
                    r"<td class=\"num\">([\d.e+-]+)</td><td class=\"num\">([\d.e+-]+)</td>",
                    out.read_text())
    assert row, out.read_text()[-3000:]
    assert float(row.group(1)) == pytest.approx(at_1024["strong_speedup"], rel=1e-3)
    assert float(row.group(2)) == pytest.approx(at_1024["strong_efficiency"], rel=1e-3)
    assert "Dotted: bba model's prediction" in out.read_text()
