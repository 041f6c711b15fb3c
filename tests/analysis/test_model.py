"""`bba model`: communication formulas, the two-point fit, predictions, bad input."""

import json
import subprocess

import pytest
from synth import BBA, write_run

from bilevel_analysis.model import (Communication, Fit, Machine, allgather_time, allreduce_time,
                                    fit_two_point, here_machine, predict)

CLUSTER = Machine(ranks_per_node=64, node_gbs=200, core_gbs=12, alpha_intra=0.3e-6,
                  alpha_inter=1.3e-6, link_gbs=12.5)
MACHINE_ARGS = ("--stream-gbs", "10", "8", "--allreduce-latency", "1e-3")
N = 10  # iterations of every synthetic run


def test_allreduce_formula_known_values():
    assert allreduce_time(1, 1e6, 1e-6, 1e-9) == 0.0
    # 2 ceil(log2 p) alpha + 2 (p-1)/p m beta
    assert allreduce_time(2, 8, 1e-6, 1e-9) == pytest.approx(2e-6 + 8e-9)
    assert allreduce_time(3, 0, 1e-6, 1e-9) == pytest.approx(4e-6)          # ceil(log2 3) = 2
    assert allreduce_time(1024, 1e6, 1e-6, 1e-10) == pytest.approx(20e-6 + 2 * 1023 / 1024 * 1e-4)
    assert allgather_time(1024, 1e6, 1e-6, 1e-10) == pytest.approx(10e-6 + 1023 / 1024 * 1e-4)


def test_machine_levels():
    # One node: 6 shared-memory rounds, each rank with 200/64 GB/s.
    assert CLUSTER.rank_bandwidth(1) == pytest.approx(12e9)
    assert CLUSTER.rank_bandwidth(64) == pytest.approx(200e9 / 64)
    assert CLUSTER.allreduce(64, 8) == pytest.approx(2 * 6 * 0.3e-6 + 2 * 63 / 64 * 8 / 3.125e9)
    # 16 nodes: 6 rounds inside a node, 4 across the network at 12.5 GB/s.
    assert CLUSTER.allreduce(1024, 8) == pytest.approx(
        2 * (6 * 0.3e-6 + 4 * 1.3e-6) + 2 * 1023 / 1024 * 8 / 12.5e9)
    # Here: the measured 2-rank latency is one round trip, 2 alpha.
    here = here_machine((10, 8), 1e-3)
    assert here.allreduce(2, 8) == pytest.approx(1e-3 + 8 / 8e9)
    assert here.rank_bandwidth(1) == 10e9 and here.rank_bandwidth(2) == 8e9


def pair(d, ts, tp, vecdots=100, scatters=0, p2_extra=(), reductions=0, reduce_bytes=8,
         halos=0, **attrs):
    """A 1-rank and a 2-rank run whose times follow the model exactly for MACHINE_ARGS:
    r = 10/8, alpha = 0.5 ms, so comm2 = (vecdots + 2) (1 ms + 8 B / 8 GB/s) + the suite's
    allreduces of reduce_bytes + gathers of 80 B + halo exchanges (VecScatterBegin calls
    that are not gathers) of one latency."""
    here = here_machine((10, 8), 1e-3)
    comm = Communication(vecdots + 2, reductions, scatters, reduce_bytes, 80, halos)
    t1 = ts + tp
    t2 = ts + 1.25 * tp / 2 + comm.time(here, 2)
    timing = {"VecDot": (vecdots * N, 0.1, 0.0),
              "VecScatterBegin": ((scatters + halos) * N, 0.1, 0.0),
              "BBAllreduce": (reductions * N, 0.1, 0.0)}
    ledger = {"allreduce": (reductions * N, reductions * N * reduce_bytes),
              "gather": (scatters * N, scatters * N * 80)}
    write_run(d / "p1.h5", n=N, time_per_iter=t1, nranks=1, timing=timing,
              communication=ledger, **attrs)
    for i, t in enumerate([t2, *p2_extra]):
        write_run(d / f"p2_{i}.h5", n=N, time_per_iter=t, nranks=2, timing=timing,
                  communication=ledger, **attrs)
    return t1, t2


def model_json(bba, *args):
    rc, out, err = bba("model", *args, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_two_point_fit_recovers_known_parts(tmp_path, bba):
    pair(tmp_path, ts=0.3, tp=1.2, scatters=3)
    fit = model_json(bba, tmp_path, *MACHINE_ARGS)["fit"]
    assert fit["ts"] == pytest.approx(0.3, rel=1e-9) and fit["tp"] == pytest.approx(1.2, rel=1e-9)
    assert fit["notes"] == []


def test_fit_uses_median_of_repetitions(tmp_path, bba):
    _, t2 = pair(tmp_path, ts=0.2, tp=2.0, p2_extra=(9.0, 0.5))  # extremes either side
    data = model_json(bba, tmp_path, *MACHINE_ARGS)
    assert data["fit"]["t2"] == pytest.approx(t2) and data["fit"]["ts"] == pytest.approx(0.2)
    assert data["communication"]["scalar_reductions"] == pytest.approx(102)


def test_collective_sizes_come_from_the_file(tmp_path, bba):
    # 3 allreduces of 62 800 B, 2 gathers of 80 B and 5 halo exchanges per iteration: the
    # fit recovers Ts/Tp only if every size and count is read back as written.
    pair(tmp_path, ts=0.1, tp=1.0, scatters=2, reductions=3, reduce_bytes=62800, halos=5)
    data = model_json(bba, tmp_path, *MACHINE_ARGS)
    c = data["communication"]
    assert (c["vector_reductions"], c["reduce_bytes"]) == pytest.approx((3, 62800))
    assert (c["scatters"], c["scatter_bytes"], c["halo_exchanges"]) == pytest.approx((2, 80, 5))
    assert data["fit"]["ts"] == pytest.approx(0.1, rel=1e-9)
    # An override replaces the file's size (and so changes the fit).
    c = model_json(bba, tmp_path, *MACHINE_ARGS, "--reduce-bytes", "8")["communication"]
    assert c["reduce_bytes"] == 8


def test_old_files_need_sizes(tmp_path, bba):
    timing = {"VecDot": (N, 0.1, 0.0), "VecScatterBegin": (3 * N, 0.1, 0.0)}
    write_run(tmp_path / "p1.h5", n=N, nranks=1, timing=timing, format_version=2)
    write_run(tmp_path / "p2.h5", n=N, nranks=2, timing=timing, format_version=2)
    one_error_line(bba("model", tmp_path, *MACHINE_ARGS), "format_version 2 < 3",
                   "--reduce-bytes")
    c = model_json(bba, tmp_path, *MACHINE_ARGS, "--reduce-bytes", "16",
                   "--scatter-bytes", "800")["communication"]
    assert (c["scatters"], c["scatter_bytes"], c["halo_exchanges"]) == (3, 800, 0)


def test_compute_bound_kernel(tmp_path, bba):
    # Compute-bound: no bandwidth loss on 2 ranks here (r = 1), and a cluster rank is
    # core_gflops there / here faster however full its node is.
    here = here_machine((10, 8), 1e-3, 17.0)
    comm = Communication(102, 0, 0, 8, 80)
    t1, t2 = 1.0, 0.5 + comm.time(here, 2)  # Ts = 0, Tp = 1 with r = 1
    timing = {"VecDot": (100 * N, 0.1, 0.0)}
    write_run(tmp_path / "p1.h5", n=N, time_per_iter=t1, nranks=1, timing=timing,
              communication={})
    write_run(tmp_path / "p2.h5", n=N, time_per_iter=t2, nranks=2, timing=timing,
              communication={})
    data = model_json(bba, tmp_path, *MACHINE_ARGS, "--kernel", "compute", "--here-gflops",
                      "17", "--core-gflops", "34", "--max-ranks", "128")
    assert data["fit"]["ts"] == pytest.approx(0.0, abs=1e-12)
    rows = {r["p"]: r for r in data["rows"]}
    for p in (1, 64, 128):  # 0.5 s of work per rank-second there, split p ways, plus comm
        comm_p = rows[p]["strong_comm"] * rows[p]["strong_time"]
        assert rows[p]["strong_time"] - comm_p == pytest.approx(0.5 / p, rel=1e-9)
    one_error_line(bba("model", tmp_path, *MACHINE_ARGS, "--kernel", "compute"),
                   "--here-gflops")


def test_fit_clamps_and_says_so():
    slower = fit_two_point(t1=1.0, t2=1.5, comm2=0.0, bandwidth_ratio=1.0)
    assert (slower.ts, slower.tp) == (1.0, 0.0) and "no parallel part" in slower.notes[0]
    faster = fit_two_point(t1=1.0, t2=0.3, comm2=0.0, bandwidth_ratio=1.0)
    assert (faster.ts, faster.tp) == (0.0, 1.0) and "perfect" in faster.notes[0]
    loaded = fit_two_point(t1=1.0, t2=0.8, comm2=0.0, bandwidth_ratio=2.7)
    assert loaded.bandwidth_ratio == 1.5 and "clamped" in loaded.notes[0]
    assert 0 <= loaded.tp <= 1.0


def test_predictions_monotone():
    fit = Fit(t1=1.0, t2=0.6, comm2=0.0, bandwidth_ratio=1.0, ts=0.05, tp=0.95)
    comm = Communication(200, 2, 3, 7850 * 8, 7850 * 8)
    ranks = [2 ** k for k in range(11)]
    rows = predict(fit, comm, here_machine((12, 12), 1e-6), CLUSTER, ranks)
    for a, b in zip(rows, rows[1:]):
        assert b.weak_time >= a.weak_time                 # comm grows, bandwidth shrinks
        assert b.strong_efficiency <= a.strong_efficiency
        assert b.weak_efficiency <= a.weak_efficiency
        assert b.strong_comm >= a.strong_comm
    assert all(r.strong_speedup <= r.p + 1e-12 for r in rows)
    # Strong time falls while each rank still gets a core's bandwidth (p <= 200/12 = 16);
    # beyond, the node's memory bandwidth is shared and the time flattens.
    assert all(b.strong_time < a.strong_time for a, b in zip(rows[:4], rows[1:5]))


def test_perfect_machine_gives_ideal_scaling():
    fit = Fit(1.0, 0.5, 0.0, 1.0, ts=0.0, tp=1.0)
    ideal = Machine(1 << 20, 1e9, 10, 1e-30, 1e-30, 1e9)
    rows = predict(fit, Communication(0, 0, 0, 8, 8), here_machine((10, 10), 1e-6), ideal,
                   [1, 2, 1024], weak_work=0.5)
    assert [r.strong_speedup for r in rows] == pytest.approx([1, 2, 1024])
    assert [r.weak_time for r in rows] == pytest.approx([0.5, 0.5, 0.5])


def test_outputs_feed_bba_scaling(tmp_path, bba):
    pair(tmp_path / "runs", ts=0.3, tp=1.2)
    (tmp_path / "machine.json").write_text(json.dumps(
        {"stream_gbs_per_rank": {"1": 10, "2": 8}, "allreduce_latency_s": 1e-3}))
    out = tmp_path / "out"
    rc, text, err = bba("model", tmp_path / "runs", "--machine", tmp_path / "machine.json",
                        "--out-dir", out, "--max-ranks", "64")
    assert rc == 0, err
    assert "| 64 " in text and "| 128 " not in text
    assert (out / "model.png").read_bytes()[:4] == b"\x89PNG"
    predicted = {int(line.split(",")[0]): float(line.split(",")[1])
                 for line in (out / "model_strong.csv").read_text().splitlines()[1:]}
    rc, text, err = bba("scaling", tmp_path / "runs", "--model", out / "model_strong.csv",
                        "--json")
    assert rc == 0, err
    rows = json.loads(text)["groups"][0]["rows"]
    assert [r["model_time"] for r in rows] == pytest.approx([predicted[1], predicted[2]])


def one_error_line(result, *needles):
    rc, out, err = result
    assert rc == 2 and out == "" and err.count("\n") == 1, err
    assert all(n in err for n in needles), err


def test_bad_input(tmp_path, bba):
    pair(tmp_path / "ok", ts=0.3, tp=1.2)
    write_run(tmp_path / "other.h5", n=N, nranks=2, problem="logreg_hyper",
              options="-problem logreg_hyper -algorithm aid")
    one_error_line(bba("model", tmp_path / "ok" / "p1.h5", tmp_path / "other.h5", *MACHINE_ARGS),
                   "not the same benchmark", "logreg_hyper")
    one_error_line(bba("model", tmp_path / "ok" / "p2_0.h5", *MACHINE_ARGS), "no 1-rank run")
    one_error_line(bba("model", tmp_path / "ok"), "machine parameters missing")
    write_run(tmp_path / "short.h5", n=N // 2, nranks=2)
    one_error_line(bba("model", tmp_path / "ok" / "p1.h5", tmp_path / "short.h5", *MACHINE_ARGS),
                   "different numbers of iterations")
    (tmp_path / "bad.json").write_text('{"stream_gbs_per_rank": 3}')
    one_error_line(bba("model", tmp_path / "ok", "--machine", tmp_path / "bad.json"),
                   "bad.json")
    one_error_line(bba("model", tmp_path / "missing.h5", *MACHINE_ARGS), "no such file")


def test_help_of_real_executable():
    p = subprocess.run([str(BBA), "model", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("usage: bba model")
