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


def _text_file(path, text):
    path.write_text(text)
    return path


def _group_x_file(path):
    with h5py.File(path, "w") as f:
        f.create_group("x")
    return path


def _stored_run(path, options, state=True):
    """A quadratic/aid result file as a checkpoint leaves it (without /state if not `state`)."""
    with h5py.File(path, "w") as f:
        f.attrs["problem"] = np.bytes_("quadratic")
        f.attrs["algorithm"] = np.bytes_("aid")
        f.attrs["options"] = np.bytes_(options)
        f["x"] = np.full(10, 0.5)
        if state:
            f["state/y"] = f["state/v"] = np.zeros(200)  # aid's state at the default ny
            f["trace/iteration"], f["trace/time"] = [0.0], [0.1]
    return path


# Input files the cases name by placeholder, made fresh in each case's directory.
INPUTS = {
    "WRONG": lambda d: _x_file(d / "wrong.h5", 4),
    "NANX": lambda d: _x_file(d / "nan.h5", 10, np.nan),
    "XFILE": lambda d: _x_file(d / "x.h5", 10),
    "GROUPX": lambda d: _group_x_file(d / "group.h5"),
    "TEXTFILE": lambda d: _text_file(d / "notes.txt", "not HDF5\n"),
    "STATELESS": lambda d: _stored_run(d / "stateless.h5", " ".join(QUAD), state=False),
    "COND10": lambda d: _stored_run(d / "cond10.h5", " ".join(QUAD + ["-problem_cond", "10"])),
    "OPTS_MULTI": lambda d: _text_file(d / "opts.txt", "-outer_iters 5 -tol 1e-3\n"),
    "SUBDIR": lambda d: (d / "subdir").mkdir() or d / "subdir",
    "SUITE_BAD2": lambda d: _text_file(d / "bad.suite", "-problem quadratic -algorithm exact "
                                       "-outer_iters 2\n-problem quadratic -algorithm aid "
                                       "-outer_itres 2\n"),
    "SUITE_EMPTY": lambda d: _text_file(d / "empty.suite", "# nothing to run\n"),
}


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
    ("more rows than the Sudoku rules' rank", ["-problem", "sudoku_lp", "-algorithm", "qp_layer",
                                               "-problem_init", "rules", "-problem_eq", "41"],
     ["-problem_init rules", "rank 40", "-problem_eq 41"]),
    ("learning-rate growth", ["-problem", "sudoku_lp", "-algorithm", "qp_layer", "-alg_lr_decay",
                              "2"], ["-alg_lr_decay", "at most 1"]),
    ("unknown dfl model", ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_model", "foo"],
     ["-problem_model", "foo", "linear | mlp"]),
    ("unknown QP reduction", ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-alg_qp_reduction",
                              "dual"], ["-alg_qp_reduction", "dual", "auto | y | multipliers"]),
    ("zero hidden width", ["-problem", "dfl_qp", "-algorithm", "qp_layer", "-problem_model", "mlp",
                           "-problem_hidden", "0"], ["-problem_hidden", "0", "integer in [1,"]),
    ("hidden width of a linear model", ["-problem", "dfl_qp", "-algorithm", "qp_layer",
                                        "-problem_hidden", "8"],
     ["-problem_hidden applies to -problem_model mlp or batchnorm only"]),
    ("batchnorm on a batch of one", ["-problem", "dfl_qp", "-algorithm", "qp_layer",
                                     "-problem_model", "batchnorm", "-problem_batch", "1"],
     ["-problem_batch 1", "at least 2 with -problem_model batchnorm"]),
    # PETSc's own options and files: refused in one line, not with a PETSc report.
    ("unknown Krylov method", QUAD + ["-alg_ksp_type", "foo"], ["KSP type foo", "-alg_ksp_type"]),
    ("unknown preconditioner", QUAD + ["-alg_pc_type", "foo"], ["PC type foo"]),
    ("missing options file", QUAD + ["-options_file", "missing.txt"],
     ["-options_file missing.txt", "no such file"]),
    ("options file is a directory", QUAD + ["-options_file", "SUBDIR"], ["not a regular file"]),
    ("several options on one options-file line", QUAD + ["-options_file", "OPTS_MULTI"],
     ["opts.txt line 1", "several options on one line"]),
    ("log_view into a missing directory", QUAD + ["-log_view", ":/nonexistent/dir/f"],
     ["-log_view", "/nonexistent/dir/f", "cannot write"]),
    # Arguments nothing reads.
    ("stray positional argument", ["foo"] + QUAD, ["unexpected argument 'foo'"]),
    ("stray argument after a value", QUAD + ["-problem_ny", "10", "20"],
     ["unexpected argument '20'"]),
    # Modes that exclude each other.
    ("hypergrad and export", ["-hypergrad", "-export_problem", "e.h5", "-problem", "quadratic",
                              "-algorithm", "aid"], ["-export_problem and -hypergrad", "exclude"]),
    ("list with a problem", ["-list", "-problem", "quadratic", "-algorithm", "aid"],
     ["-list and -problem exclude each other"]),
    ("suite and hypergrad", ["-hypergrad", "-suite", "quick", "-output", "o.h5"],
     ["-hypergrad and -suite", "exclude"]),
    # Files given as input.
    ("x_from whose x is a group", QUAD + ["-x_from", "GROUPX"], ["group.h5", "'x' is not a dataset"]),
    ("x_from not HDF5", QUAD + ["-x_from", "TEXTFILE"], ["notes.txt", "HDF5"]),
    ("output over the x_from file", QUAD + ["-x_from", "XFILE", "-output", "XFILE"],
     ["same file"]),
    ("restart from a file without state", QUAD + ["-restart_from", "STATELESS"],
     ["-restart_from", "stateless.h5", "'/state' is missing"]),
    ("restart from a file that is not HDF5", QUAD + ["-restart_from", "TEXTFILE"],
     ["-restart_from", "notes.txt", "HDF5"]),
    ("restart to another output", QUAD + ["-restart_from", "STATELESS", "-output", "other.h5"],
     ["must name the same file"]),
    ("restart and x_from", QUAD + ["-restart_from", "STATELESS", "-x_from", "XFILE"],
     ["-restart_from and -x_from", "give one"]),
    ("restart with another condition number", QUAD + ["-problem_cond", "20", "-restart_from",
                                                      "COND10"],
     ["option -problem_cond is '20' here but was '10' in the stored run"]),
    ("restart with a seed added", QUAD + ["-problem_cond", "10", "-seed", "3", "-restart_from",
                                          "COND10"],
     ["option -seed is '3' here but was not given"]),
    ("restart of another problem", ["-problem", "toy_sc", "-algorithm", "aid", "-restart_from",
                                    "STATELESS"], ["holds a run of quadratic/aid"]),
    # Exports refused without leaving a stub file.
    ("export of cournot", ["-export_problem", "e.h5", "-problem", "cournot"], ["cournot"]),
    ("export of obstacle_control", ["-export_problem", "e.h5", "-problem", "obstacle_control"],
     ["obstacle_control"]),
    ("export of affine_vi_box", ["-export_problem", "e.h5", "-problem", "affine_vi_box"],
     ["affine_vi_box"]),
    ("export of a large quadratic", ["-export_problem", "e.h5", "-problem", "quadratic",
                                     "-problem_ny", "5000"], ["-problem_ny 5000", "ny <= 4096"]),
    ("export without a problem", ["-export_problem", "e.h5"], ["no -problem"]),
    ("export into a missing directory", ["-export_problem", "/nonexistent/d/e.h5", "-problem",
                                         "quadratic"], ["cannot create", "/nonexistent/d/e.h5"]),
    # Suites: every line is checked before the first runs.
    ("suite with a bad second line", ["-suite", "SUITE_BAD2"], ["bad.suite' line 2", "-outer_itres"]),
    ("empty suite", ["-suite", "SUITE_EMPTY"], ["empty.suite' has no runs"]),
    ("missing suite file", ["-suite", "nosuch.suite"], ["nosuch.suite", "cannot be read"]),
    # Run control values.
    ("negative flush interval", QUAD + ["-flush_interval", "-1"], ["-flush_interval", "-1"]),
    ("negative tolerance", QUAD + ["-tol", "-1"], ["-tol", "-1"]),
    ("zero report interval", QUAD + ["-report_every", "0"], ["-report_every", "0"]),
    ("zero objective interval", QUAD + ["-objective_every", "0"], ["-objective_every", "0"]),
    ("negative seed", QUAD + ["-seed", "-1"], ["-seed", "-1"]),
    ("NaN time budget", QUAD + ["-time_budget", "nan"], ["-time_budget", "nan"]),
    ("unknown line search", QUAD + ["-alg_line_search", "foo"], ["-alg_line_search", "foo"]),
    ("fractional size", QUAD + ["-problem_ny", "1.5"], ["-problem_ny", "1.5"]),
]


@pytest.mark.parametrize("name,args,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input(run, tmp_path, name, args, words):
    args = [INPUTS[a](tmp_path) if a in INPUTS else a for a in args]
    output = tmp_path / "out.h5"
    if not {"-output", "-restart_from", "-hypergrad", "-export_problem"} & set(args):
        args = args + ["-output", output]
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    result = run(*args)
    assert result.returncode == 2, (name, result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{name}: expected one line, got {lines}"
    assert lines[0].startswith("bilevelbench: error: ")
    for word in words:
        assert word in lines[0], f"{name}: '{word}' not in '{lines[0]}'"
    assert status_of(output) not in ("completed", "converged")
    # Refused before anything was written: no file created, none changed.
    after = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    assert after == before, f"{name}: files changed: {set(after.items()) ^ set(before.items())}"


def test_bad_input_table_size():
    assert len(CASES) >= 60


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
