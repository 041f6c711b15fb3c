"""`bba scaling` computes speedup/efficiency from a synthetic sweep."""

import json

import pytest
from synth import write_run


def sweep(d, times: dict, n=10, **attrs):
    """One file per (p, repetition) with the given time per iteration."""
    for p, reps in times.items():
        for r, t in enumerate(reps if isinstance(reps, list) else [reps]):
            write_run(d / f"p{p}_r{r}.h5", n=n, time_per_iter=t, nranks=p,
                      timing={"Hypergrad": (n, 0.5 * t * n / p, 0.0)}, **attrs)
    return d


def rows_of(out):
    (group,) = json.loads(out)["groups"]
    return {r["p"]: r for r in group["rows"]}


def test_strong_scaling_known_efficiencies(tmp_path, bba):
    sweep(tmp_path, {1: 10.0, 2: [6.1, 6.0, 5.8], 4: 4.0})  # median at p=2 is 6.0
    rc, out, err = bba("scaling", tmp_path, "--json")
    assert rc == 0, err
    rows = rows_of(out)
    assert rows[2]["runs"] == 3 and rows[2]["time"] == pytest.approx(6.0)
    assert rows[2]["speedup"] == pytest.approx(10 / 6, abs=1e-3)      # 1.667
    assert rows[2]["efficiency"] == pytest.approx(10 / 12, abs=1e-3)  # 0.833
    assert rows[4]["speedup"] == pytest.approx(2.5)
    assert rows[4]["efficiency"] == pytest.approx(0.625)
    rc, out, _ = bba("scaling", tmp_path)
    assert "| 2 " in out and "1.667" in out and "0.8333" in out


def test_weak_scaling_and_event_timing(tmp_path, bba):
    sweep(tmp_path, {1: 10.0, 4: 12.5})
    rows = rows_of(bba("scaling", tmp_path, "--mode", "weak", "--json")[1])
    assert rows[4]["efficiency"] == pytest.approx(0.8) and rows[4]["speedup"] is None
    # The Hypergrad event takes 0.5 t / p per iteration: 5 s at p=1, 12.5/8 s at p=4.
    rows = rows_of(bba("scaling", tmp_path, "--mode", "weak", "--event", "Hypergrad", "--json")[1])
    assert rows[1]["time"] == pytest.approx(5.0) and rows[4]["time"] == pytest.approx(12.5 / 8)


def test_model_overlay_and_plots(tmp_path, bba):
    runs = sweep(tmp_path / "runs", {1: 10.0, 2: 6.0, 4: 4.0})
    model = tmp_path / "model.csv"
    model.write_text("p,predicted_time\n1,10\n2,5\n4,2.5\n")
    plots = tmp_path / "plots"
    rc, out, err = bba("scaling", runs, "--model", model, "--plot-dir", plots, "--json")
    assert rc == 0, err
    rows = rows_of(out)
    assert rows[4]["model_time"] == 2.5 and rows[4]["model_efficiency"] == pytest.approx(1.0)
    for name in ("time", "speedup", "efficiency"):
        assert (plots / f"scaling_{name}.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "m.json").write_text(json.dumps([{"p": 1, "predicted_time": 10},
                                                 {"p": 2, "predicted_time": 8}]))
    rows = rows_of(bba("scaling", runs, "--model", tmp_path / "m.json", "--json")[1])
    assert rows[2]["model_efficiency"] == pytest.approx(10 / 16) and rows[4]["model_time"] is None


def test_groups_by_algorithm(tmp_path, bba):
    sweep(tmp_path, {1: 10.0, 2: 6.0}, algorithm="aid")
    for p, t in {1: 8.0, 2: 4.0}.items():
        write_run(tmp_path / f"itd{p}.h5", n=10, time_per_iter=t, nranks=p, algorithm="itd")
    groups = json.loads(bba("scaling", tmp_path, "--json")[1])["groups"]
    eff = {g["algorithm"]: g["rows"][1]["efficiency"] for g in groups}
    assert eff == pytest.approx({"aid": 10 / 12, "itd": 1.0})


def test_bad_model_file(tmp_path, bba):
    sweep(tmp_path / "runs", {1: 1.0})
    (tmp_path / "bad.csv").write_text("nranks,t\n1,2\n")
    rc, _, err = bba("scaling", tmp_path / "runs", "--model", tmp_path / "bad.csv")
    assert rc == 2 and err.count("\n") == 1 and "predicted_time" in err
