"""`bba regress`: flags real slowdowns, ignores noise, refuses incomparable runs."""

import json

import numpy as np
import pytest
from synth import noisy, write_gbench, write_run

REPS = 10


def reps(scale, noise=0.01, seed=0):
    """REPS times per iteration scale * (1 + noise * N(0,1))."""
    return noisy(np.full(REPS, scale), noise, seed)


def result_set(d, times, host="node01", nranks=2, objective=1.0, n=10,
               options="-problem quadratic -algorithm aid -outer_iters 10"):
    """One repetition of the same benchmark per entry of times (seconds per iteration)."""
    for r, t in enumerate(times):
        k = np.arange(n, dtype=float)
        write_run(d / f"run{r}.h5", time_per_iter=t, hostname=host, nranks=nranks,
                  options=f"{options} -seed {r} -output {d}/run{r}.h5",
                  trace={"time": t * (k + 1), "upper_objective": np.full(n, objective),
                         "test_accuracy": np.full(n, 0.9)})
    return d


def compare(bba, base, cand, *extra):
    rc, out, err = bba("regress", base, cand, "--json", *extra)
    return rc, (json.loads(out) if out else None), err


def test_flags_20_percent_slowdown(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0, seed=1))
    cand = result_set(tmp_path / "cand", reps(1.2, seed=2), objective=1.01)
    rc, res, _ = compare(bba, base, cand)
    (c,) = res["comparisons"]
    assert rc == 1 and res["regressions"] == 1 and c["verdict"] == "REGRESSION"
    assert c["ratio"] == pytest.approx(1.2, abs=0.02) and c["pvalue"] < 1e-3
    assert c["n_base"] == c["n_cand"] == REPS  # -seed/-output differ, still one benchmark
    assert c["d_objective"] == pytest.approx(0.01) and c["d_accuracy"] == pytest.approx(0.0)
    rc, out, _ = bba("regress", base, cand)
    assert rc == 1 and "REGRESSION" in out and "1 regression(s)" in out


def test_noise_level_difference_not_flagged(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0, seed=3))
    cand = result_set(tmp_path / "cand", reps(1.02, seed=4))
    rc, res, _ = compare(bba, base, cand)
    assert rc == 0 and res["regressions"] == 0 and res["comparisons"][0]["verdict"] == "same"


def test_large_but_insignificant_change_not_flagged(tmp_path, bba):
    # Medians 15 % apart, but the samples interleave: the U test cannot tell them apart.
    base = result_set(tmp_path / "base", [1.0, 1.3, 0.8, 1.2, 0.9])
    cand = result_set(tmp_path / "cand", [1.25, 0.95, 1.4, 0.85, 1.15])
    rc, res, _ = compare(bba, base, cand)
    c = res["comparisons"][0]
    assert c["ratio"] == pytest.approx(1.15) and c["pvalue"] > 0.05
    assert c["verdict"] == "slower (not significant)" and rc == 0


def test_refuses_different_hostnames(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0), host="node01")
    cand = result_set(tmp_path / "cand", reps(1.0), host="laptop")
    rc, _, err = compare(bba, base, cand)
    assert rc == 2 and err.count("\n") == 1 and "host" in err and "laptop" in err
    rc, res, _ = compare(bba, base, cand, "--allow-different-machines")
    assert rc == 0 and len(res["comparisons"]) == 1


def test_refuses_different_nranks(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0), nranks=2)
    cand = result_set(tmp_path / "cand", reps(1.3), nranks=4)
    rc, _, err = compare(bba, base, cand)
    assert rc == 2 and err.count("\n") == 1 and "nranks" in err
    rc, res, _ = compare(bba, base, cand, "--allow-different-machines")
    assert rc == 1 and res["regressions"] == 1


def test_different_options_are_different_benchmarks(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0))
    cand = result_set(tmp_path / "cand", reps(1.5), options="-problem quadratic -outer_iters 20")
    rc, _, err = compare(bba, base, cand)
    assert rc == 2 and "no benchmark appears in both" in err


def test_google_benchmark_json(tmp_path, bba):
    rng = np.random.default_rng(7)
    base = write_gbench(tmp_path / "base.json", {
        "BM_VecNorm/1000": list(1000 * (1 + 0.01 * rng.standard_normal(REPS))),
        "BM_MatMult/64": list(5000 * (1 + 0.01 * rng.standard_normal(REPS)))})
    # Candidate in microseconds: MatMult unchanged, VecNorm 20 % slower.
    cand = write_gbench(tmp_path / "cand.json", unit="us", samples={
        "BM_VecNorm/1000": list(1.2 * (1 + 0.01 * rng.standard_normal(REPS))),
        "BM_MatMult/64": list(5.0 * (1 + 0.01 * rng.standard_normal(REPS)))})
    rc, res, err = compare(bba, base, cand)
    assert rc == 1, err
    by = {c["label"]: c for c in res["comparisons"]}
    assert by["BM_VecNorm/1000"]["verdict"] == "REGRESSION"
    assert by["BM_MatMult/64"]["verdict"] == "same"
    assert by["BM_MatMult/64"]["ratio"] == pytest.approx(1.0, abs=0.02)
    assert by["BM_MatMult/64"]["n_base"] == REPS  # aggregates ignored


def test_google_benchmark_refusals_and_errors(tmp_path, bba):
    base = write_gbench(tmp_path / "base.json", {"BM_A": [1.0] * 5})
    other = write_gbench(tmp_path / "other.json", {"BM_A": [1.0] * 5}, host="elsewhere")
    rc, _, err = compare(bba, base, other)
    assert rc == 2 and "elsewhere" in err
    rc, _, err = compare(bba, base, result_set(tmp_path / "h5", reps(1.0)))
    assert rc == 2 and "cannot compare Google Benchmark JSON with HDF5" in err
    (tmp_path / "broken.json").write_text("{")
    rc, _, err = compare(bba, base, tmp_path / "broken.json")
    assert rc == 2 and err.count("\n") == 1 and "not a Google Benchmark JSON" in err


def test_missing_baseline_is_one_line_error(tmp_path, bba):
    rc, out, err = bba("regress", tmp_path / "nope", result_set(tmp_path / "c", reps(1.0)))
    assert rc == 2 and out == ""
    assert err == f"bba regress: error: {tmp_path / 'nope'}: no such file or directory\n"


def test_numbers_are_compared_with_tolerances(tmp_path, bba):
    base = result_set(tmp_path / "base", reps(1.0, seed=5), objective=1562.287)
    same = result_set(tmp_path / "same", reps(1.0, seed=6), objective=1562.287 * (1 + 1e-9))
    digit4 = result_set(tmp_path / "digit4", reps(1.0, seed=7), objective=1562.756)
    rc, res, _ = compare(bba, base, same)
    assert rc == 0 and res["number_changes"] == 0  # round-off between builds
    rc, res, _ = compare(bba, base, digit4)
    (c,) = res["comparisons"]
    assert rc == 1 and res["regressions"] == 0 and c["changed"] == ["upper_objective"]
    rc, out, _ = bba("regress", base, digit4)
    assert "CHANGED: upper_objective" in out and "1562.287 -> 1562.756" in out
    rc, res, _ = compare(bba, base, digit4, "--tolerance", "upper_objective=1e-3,0")
    assert rc == 0


def test_iterations_to_tolerance_and_hypergradient_error(tmp_path, bba):
    def one(d, rate, error):
        k = np.arange(40.0)
        write_run(d / "r.h5", trace={"hypergrad_norm": rate ** k, "hypergrad_error":
                                     np.full(40, error)})
        return d

    base = one(tmp_path / "b", 0.5, 1e-3)
    slower = one(tmp_path / "s", 0.6, 1e-3)  # 0.5^k <= 1e-6 from k = 20, 0.6^k from k = 28
    worse = one(tmp_path / "w", 0.5, 2e-3)
    (c,) = compare(bba, base, slower)[1]["comparisons"]
    assert c["numbers"]["iterations_to_tol"][:2] == [21.0, 29.0]  # iterations done
    assert c["changed"] == ["iterations_to_tol"]
    (c,) = compare(bba, base, worse)[1]["comparisons"]
    assert c["changed"] == ["hypergrad_error"]


def test_reference_file_round_trip(tmp_path, bba):
    results = result_set(tmp_path / "res", [1.0], objective=2.5)
    ref = tmp_path / "ref.json"
    rc, out, err = bba("regress", results, "--write-reference", ref)
    assert rc == 0, err
    data = json.loads(ref.read_text())
    assert data["tolerances"]["upper_objective"] == [1e-6, 0.0]
    assert list(data["benchmarks"].values())[0]["upper_objective"] == 2.5
    assert bba("regress", results, "--reference", ref)[0] == 0
    moved = result_set(tmp_path / "moved", [1.0], objective=2.5 * (1 + 1e-4))
    rc, out, _ = bba("regress", moved, "--reference", ref)
    assert rc == 1 and "CHANGED: quadratic/aid" in out and "upper_objective 2.5 ->" in out
    extra = result_set(tmp_path / "extra", [1.0], objective=2.5,
                       options="-problem quadratic -algorithm itd")
    rc, out, _ = bba("regress", extra, "--reference", ref)
    assert rc == 1 and "only in the reference" in out and "only in the results" in out
