"""Bad input: one clear line naming what is wrong, a non-zero exit, and no result file claiming
success."""
import h5py
import numpy as np
import pytest

from conftest import status_of

QUAD = ["-problem", "quadratic", "-algorithm", "aid", "-outer_iters", "3"]


def _x_file(path, n, value=0.5):
    with h5py.File(path, "w") as f:
        f["x"] = np.full(n, value)
    return path


CASES = [
    # (name, arguments, words the message must contain)
    ("unknown problem", ["-problem", "nope", "-algorithm", "aid"], ["unknown problem 'nope'", "quadratic"]),
    ("unknown algorithm", ["-problem", "quadratic", "-algorithm", "nope"], ["unknown algorithm 'nope'", "aid"]),
    ("unknown option", QUAD + ["-outer_itres", "5"], ["unknown option -outer_itres"]),
    ("negative size", QUAD + ["-problem_ny", "-5"], ["-problem_ny", "-5", "integer in [2,"]),
    ("non-numeric iterations", QUAD + ["-outer_iters", "abc"], ["-outer_iters", "abc", "integer"]),
    ("NaN step", QUAD + ["-alg_step", "nan"], ["-alg_step", "nan", "finite number"]),
    ("zero step", QUAD + ["-alg_step", "0"], ["-alg_step", "> 0"]),
    ("condition below one", QUAD + ["-problem_cond", "0.5"], ["-problem_cond", "[1,"]),
    ("bad choice", ["-problem", "logreg_hyper", "-algorithm", "aid", "-problem_reg", "bogus"],
     ["-problem_reg", "bogus", "feature | scalar"]),
    ("missing -x_from file", QUAD + ["-x_from", "missing.h5"], ["missing.h5", "does not exist"]),
    ("wrong x dimension", QUAD + ["-x_from", "WRONG"], ["has 4 values", "expected 10"]),
    ("NaN in x file", QUAD + ["-x_from", "NANX"], ["NaN"]),
    ("unwritable output", QUAD + ["-output", "/nonexistent/dir/out.h5"], ["cannot create", "/nonexistent/dir/out.h5"]),
    ("missing data package", ["-problem", "logreg_hyper", "-algorithm", "aid", "-problem_data_dir", "/nonexistent"],
     ["dataset-fashion-mnist"]),
    ("missing diabetes data", ["-problem", "adversarial_ls", "-algorithm", "igfm", "-problem_data_dir", "/nonexistent"],
     ["diabetes", "/nonexistent", "python3-sklearn"]),
    ("sigma_min above sigma_max", ["-problem", "adversarial_ls", "-algorithm", "igfm", "-problem_sigma_min", "2"],
     ["-problem_sigma_min", "sigma_min <= sigma_max"]),
    ("crossed box bounds", ["-problem", "box_qp_bilevel", "-algorithm", "box_qp_hypergrad",
                            "-problem_lower", "1", "-problem_upper", "-1"],
     ["box_qp_bilevel", "bounds cross"]),
    ("too many samples", ["-problem", "logreg_hyper", "-algorithm", "aid", "-problem_train", "59000", "-problem_val", "5000"],
     ["at most 60000"]),
    ("no closed form", ["-problem", "logreg_hyper", "-algorithm", "exact", "-problem_train", "50", "-problem_val", "50", "-problem_test", "50"],
     ["closed-form", "logreg_hyper"]),
    ("no problem", ["-algorithm", "aid"], ["no -problem", "quadratic"]),
    ("hypergrad without output", ["-hypergrad", "-problem", "quadratic", "-algorithm", "aid"], ["-output"]),
    ("restart from missing file", QUAD + ["-restart_from", "gone.h5"], ["gone.h5", "does not exist"]),
    ("D-gap with b <= a", ["-problem", "affine_vi_box", "-algorithm", "itd_vi", "-problem_dgap_a", "2",
                          "-problem_dgap_b", "1"], ["D-gap", "b > a > 0"]),
    ("itd_vi check without closed form", ["-problem", "obstacle_control", "-algorithm", "itd_vi",
                                          "-alg_check_exact"], ["-alg_check_exact", "obstacle_control"]),
    ("batch above the training split", ["-problem", "sudoku_lp", "-algorithm", "qp_layer",
                                        "-problem_train", "4", "-problem_batch", "8"],
     ["-problem_batch 8", "at most -problem_train (4)"]),
    ("unknown dfl model", ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_model", "foo"],
     ["-problem_model", "foo", "linear | mlp"]),
    ("zero hidden width", ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_model", "mlp",
                           "-problem_hidden", "0"], ["-problem_hidden", "0", "integer in [1,"]),
    ("hidden width of a linear model", ["-problem", "dfl_qp", "-algorithm", "qp_layer",
                                        "-problem_hidden", "8"],
     ["-problem_hidden applies to -problem_model mlp only"]),
]


@pytest.mark.parametrize("name,args,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input(run, tmp_path, name, args, words):
    args = [{"WRONG": _x_file(tmp_path / "wrong.h5", 4),
             "NANX": _x_file(tmp_path / "nan.h5", 10, np.nan)}.get(a, a) for a in args]
    output = tmp_path / "out.h5"
    if not {"-output", "-restart_from", "-hypergrad"} & set(args):
        args = args + ["-output", output]
    result = run(*args)
    assert result.returncode == 2, (name, result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{name}: expected one line, got {lines}"
    assert lines[0].startswith("bilevelbench: error: ")
    for word in words:
        assert word in lines[0], f"{name}: '{word}' not in '{lines[0]}'"
    assert status_of(output) not in ("completed", "converged")


def test_bad_input_same_on_two_ranks(run, tmp_path):
    result = run(*QUAD, "-outer_iters", "x", "-output", tmp_path / "o.h5", ranks=2)
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("bilevelbench")]
    assert ours == ["bilevelbench: error: option -outer_iters: bad value 'x'; accepted: an integer "
                    "in [0, 1000000000]"]


def test_qp_layer_batch_smaller_than_rank_count(run, tmp_path):
    """Every rank solves at least one QP of a minibatch: a batch of 1 on 2 ranks is refused."""
    out = tmp_path / "o.h5"
    result = run("-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_batch", "1",
                 "-output", out, ranks=2)
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("bilevelbench")]
    assert ours == ["bilevelbench: error: -problem_batch 1: accepted: at least one sample per "
                    "rank (2 ranks)"]
    assert status_of(out) not in ("completed", "converged")
