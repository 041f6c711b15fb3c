"""Reader: runs at the root and in suite groups, string decoding, options, parameters."""

import subprocess
import sys

import numpy as np
import pytest
from synth import write_run

from bilevel_analysis.common import AnalysisError
from bilevel_analysis.io import load_runs, parse_options


def test_root_run_decodes_bytes_and_timing(tmp_path):
    write_run(tmp_path / "a.h5", n=5, hostname="node07", nranks=4,
              timing={"KSPSolve": (7, 1.5, 2e6), "MainLoop": (5, 3.0, 0.0)})
    (run,) = load_runs([tmp_path / "a.h5"])
    assert run.attrs["hostname"] == "node07" and isinstance(run.attrs["hostname"], str)
    assert run.attrs["nranks"] == 4
    assert run.n_iterations == 5
    assert run.timing["KSPSolve"].count == 7 and run.timing["KSPSolve"].time == 1.5
    np.testing.assert_allclose(run.metric("time"), 0.1 * np.arange(1, 6))
    assert run.time_per_iteration() == pytest.approx(0.1)
    assert run.time_per_iteration("MainLoop") == pytest.approx(0.6)


def test_suite_file_gives_one_run_per_group(tmp_path):
    for i, alg in enumerate(["aid", "itd", "bome"]):
        write_run(tmp_path / "suite.h5", group=f"run{i}", algorithm=alg)
    runs = load_runs([tmp_path])
    assert [r.attrs["algorithm"] for r in runs] == ["aid", "itd", "bome"]
    assert runs[1].label == "suite.h5:/run1"


def test_parse_options_negative_numbers_and_flags():
    pairs = parse_options("-alg_delta -1e-3 -log_view -outer_iters 20 -output 'a b.h5'")
    assert pairs == [("-alg_delta", "-1e-3"), ("-log_view", None), ("-outer_iters", "20"),
                     ("-output", "a b.h5")]


def test_param_from_attribute_then_option(tmp_path):
    write_run(tmp_path / "a.h5", options="-alg_inner_iters 5 -alg_inner_iters 20 -x foo",
              T=7)
    (run,) = load_runs([tmp_path / "a.h5"])
    assert run.param("T") == 7
    assert run.param("alg_inner_iters") == 20  # last occurrence wins, as in PETSc
    assert run.param("-alg_inner_iters") == 20
    with pytest.raises(AnalysisError, match="no attribute 'delta'"):
        run.param("delta")
    with pytest.raises(AnalysisError, match="not a number"):
        run.param("x")


def test_benchmark_key_ignores_output_and_seed_only(tmp_path):
    write_run(tmp_path / "a.h5", options="-outer_iters 10 -seed 1 -output a.h5")
    write_run(tmp_path / "b.h5", options="-output b.h5 -seed 2 -outer_iters 10")
    write_run(tmp_path / "c.h5", options="-outer_iters 11 -seed 1 -output c.h5")
    a, b, c = load_runs([tmp_path])
    assert a.benchmark_key() == b.benchmark_key()
    assert a.benchmark_key() != c.benchmark_key()


def _junk_file(d):
    (d / "junk.h5").write_text("not hdf5")
    return d / "junk.h5"


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.h5", "no such file"),
    (lambda d: d, "no HDF5 result files"),
    (_junk_file, "cannot read HDF5"),
])
def test_bad_inputs_raise_clear_errors(tmp_path, make, message):
    with pytest.raises(AnalysisError, match=message):
        load_runs([make(tmp_path)])


def test_missing_metric_names_available_ones(tmp_path):
    (run,) = load_runs([write_run(tmp_path / "a.h5")])
    with pytest.raises(AnalysisError, match="no trace metric 'avg_h'.*hypergrad_norm"):
        run.metric("avg_h")


def test_variable_length_strings_and_open_writer(tmp_path):
    import h5py

    path = tmp_path / "vlen.h5"
    with h5py.File(path, "w") as f:  # h5py's default: variable-length UTF-8 strings
        f.attrs.update(problem="toy", algorithm="itd", hostname="n1", nranks=np.int32(2),
                       format_version=1, options="-outer_iters 3")
        f.create_dataset("trace/time", data=[0.1, 0.2, 0.3])
        f.create_dataset("timing/event", data=["KSPSolve", "VecNorm"],
                         dtype=h5py.string_dtype())
        f.create_dataset("timing/time", data=[1.0, 2.0])
    # A running job's writer holds the file open (and locked) in another process.
    writer = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys; f = h5py.File(sys.argv[1], 'a'); "
         "print('open', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        (run,) = load_runs([path])
    finally:
        writer.communicate("", timeout=30)
    assert run.attrs["problem"] == "toy" and run.attrs["nranks"] == 2
    assert run.timing["VecNorm"].time == 2.0 and run.timing["VecNorm"].count == 0
    assert run.time_per_iteration() == pytest.approx(0.1)


def test_format_2_timing_keeps_the_timed_stage_apart(tmp_path):
    """Format 2 logs each event per PETSc stage; a run's cost is its BBIterations stage, not
    the true-hypergradient solves of the reporting stage that share the event names."""
    import h5py

    path = tmp_path / "staged.h5"
    with h5py.File(path, "w") as f:
        f.attrs.update(problem="toy", algorithm="pgd_qp", format_version=2)
        f.create_dataset("trace/time", data=[0.1, 0.2])
        f.create_dataset("timing/stage", data=[b"Main Stage", b"BBIterations", b"BBReporting"])
        f.create_dataset("timing/event", data=[b"MatMult", b"MatMult", b"MatMult"])
        f.create_dataset("timing/count", data=[1, 4, 300])
        f.create_dataset("timing/time", data=[0.01, 0.02, 1.5])
    (run,) = load_runs([path])
    assert run.timing["MatMult"].count == 4 and run.timing["MatMult"].time == 0.02
    assert run.timing_stages["BBReporting"]["MatMult"].count == 300
    assert run.time_per_iteration("MatMult") == pytest.approx(0.01)
