"""Results do not depend on the rank count, and distributed datasets are in natural (global index)
order at every rank count. Every registered problem runs a few outer iterations at 1, 2, 3 and 4
ranks, and the written /x, /state/y and trace agree to 1e-10; on the problems whose data or
variables are distributed, the hypergradient at the same x (the 1-rank run's, which varies entry
by entry) agrees too, and so do the /x and /hypergrad that -hypergrad writes. Reports that reduce
over the ranks outside these runs' paths (a stochastic solver's true hypergradient, the BatchNorm
predictor's batch statistics) are compared on their trace columns. A file written at
one rank count starts a run at another (-x_from, -restart_from) at the same x. obstacle_control's
64 x 64 DMDA is split 1 x 2, 1 x 3 and 2 x 2 at 2, 3 and 4 ranks, so at 4 ranks PETSc's ordering
(each rank's block contiguous) is not the grid's; the other distributed problems own contiguous
index ranges."""
import re
import shutil

import h5py
import numpy as np
import pytest

from conftest import launch, trace, untrustworthy_successes

RANKS = (1, 2, 3, 4)
# Reverse-mode ITD on the obstacle problem with b = 4e4 > L/2, as in test_runs.py's rank case.
OBSTACLE = ["-problem", "obstacle_control", "-problem_grid", "64", "-algorithm", "itd_vi",
            "-alg_b", "40000", "-alg_step", "2e5", "-alg_inner_iters", "30"]
# Fashion-MNIST at a few hundred samples (hyperclean on 20 principal components).
SMALL_MNIST = ["-problem_train", "100", "-problem_val", "50", "-problem_test", "50"]

# Problems whose oracles work on distributed data or variables, so that each rank computes a part
# and the parts are reduced in a rank-dependent order: each with a method of fixed work (or a
# tight tolerance), so that only that order differs between rank counts.
DISTRIBUTED = {
    # the N^2 grid unknowns on a DMDA
    "obstacle_control": OBSTACLE,
    # y and the rows of Q, B distributed
    "quadratic": ["-problem", "quadratic", "-problem_ny", "300", "-algorithm", "itd",
                  "-alg_inner_iters", "50"],
    # y and the rows of the assembled H distributed; TAO and the adjoint CG to tight tolerances
    "box_qp_bilevel": ["-problem", "box_qp_bilevel", "-algorithm", "box_qp_hypergrad"],
    # one firm per entry of x and y, distributed
    "cournot": ["-problem", "cournot", "-problem_firms", "1000", "-algorithm", "itd_vi",
                "-alg_b", "3.002", "-alg_step", "0.5", "-alg_inner_iters", "30"],
    # the rows of the data matrix and y distributed
    "adversarial_ls": ["-problem", "adversarial_ls", "-algorithm", "exact"],
    # training samples split by rank, their partial sums reduced (x and the model replicated)
    "logreg_hyper": ["-problem", "logreg_hyper", *SMALL_MNIST, "-algorithm", "itd",
                     "-alg_inner_iters", "10", "-alg_step", "1000"],
    # aid_neumann: its series is all reduced Hessian products (logreg_hyper covers itd).
    "hyperparam_logreg": ["-problem", "hyperparam_logreg", *SMALL_MNIST, "-algorithm",
                          "aid_neumann", "-alg_inner_iters", "10", "-alg_neumann_terms", "20",
                          "-alg_step", "1000"],
    # training samples (and their entries of x) split by rank; the PCA basis from reduced sums
    "hyperclean": ["-problem", "hyperclean", *SMALL_MNIST, "-problem_pca", "20",
                   "-algorithm", "itd", "-alg_inner_iters", "10"],
    # the minibatch split by rank, y its QP solutions stacked (each rank its block), one
    # reduction of the model gradient; qp_layer has no hypergradient oracle: runs only
    "dfl_qp": ["-problem", "dfl_qp", "-problem_train", "16", "-problem_test", "8",
               "-algorithm", "qp_layer"],
    "sudoku_lp": ["-problem", "sudoku_lp", "-problem_train", "16", "-problem_test", "8",
                  "-algorithm", "qp_layer"],
    "portfolio_layer": ["-problem", "portfolio_layer", "-problem_train", "16",
                        "-problem_test", "8", "-algorithm", "qp_layer"],
    "ball_layer": ["-problem", "ball_layer", "-problem_train", "16", "-problem_test", "8",
                   "-algorithm", "qp_layer"],
    # samples split by rank: saba's minibatch sums and its memories' mean changes reduced once a
    # step (x, y, v replicated); saba has no hypergradient oracle: runs only
    "finite_sum_quadratic": ["-problem", "finite_sum_quadratic", "-problem_n_inner", "512",
                             "-problem_n_outer", "128", "-algorithm", "saba"],
}
# Problems whose data are replicated on every rank and whose oracles work on the gathered whole x
# and y. Their x and y are still distributed Vecs, written collectively, and the methods' own
# vector reductions (norms, dot products, Krylov solves) are distributed: their runs are compared
# like the others'; the hypergradient is the same replicated computation at every rank count.
REPLICATED = {
    "toy_sc": ["-problem", "toy_sc", "-algorithm", "itd", "-alg_inner_iters", "50"],
    "toy_nonconvex": ["-problem", "toy_nonconvex", "-algorithm", "bome"],
    "coreset": ["-problem", "coreset", "-algorithm", "pgd_qp"],
    "hard_liu": ["-problem", "hard_liu", "-algorithm", "bda"],
    "hard_nonsmooth": ["-problem", "hard_nonsmooth", "-algorithm", "bda", "-alg_inner_eta", "0.1"],
    "hard_discontinuous": ["-problem", "hard_discontinuous", "-algorithm", "bda",
                           "-alg_inner_eta", "0.1"],
    "qp_bilevel": ["-problem", "qp_bilevel", "-algorithm", "qp_hypergrad"],
    # dense M, N replicated; F(y, x) = M y + N x + q on the gathered vectors
    "affine_vi_box": ["-problem", "affine_vi_box", "-algorithm", "kkt_vi"],
}
RUNS = {**DISTRIBUTED, **REPLICATED}
# Reports that reduce over the ranks in methods the runs above do not cover, compared the same way
# and on the trace columns listed: (arguments, columns).
REPORTS = {
    # the true hypergradient of a stochastic solver (Newton on the reduced lower sums for y*, CG
    # for v*), outside its own minibatch path: hypergrad_norm, inner_distance and lower_residual
    "logreg_hyper_soba": (["-problem", "logreg_hyper", *SMALL_MNIST, "-algorithm", "soba",
                           "-alg_outer_ratio", "1e-4"],
                          ["hypergrad_norm", "inner_distance", "lower_residual"]),
    # saba on hyperclean: the training samples and their memories split by rank, the x-memory in
    # its one-entry layout; the memories themselves (/state, written on request) in sample order
    "hyperclean_saba": (["-problem", "hyperclean", *SMALL_MNIST, "-algorithm", "saba",
                         "-alg_batch_size", "16", "-alg_true_hypergrad", "false",
                         "-alg_save_memories"],
                        ["upper_objective", "lower_residual", "test_accuracy", "state/v",
                         *(f"state/memory_{term}" for term in (
                             "lower_grad_y", "hess_yy", "hess_xy", "hess_xy_entries",
                             "upper_grad_y", "lower_grad_y_mean", "hess_xy_mean"))]),
    # the BatchNorm predictor: batch statistics and their backward sums reduced over the ranks
    "dfl_qp_batchnorm": (["-problem", "dfl_qp", "-problem_train", "16", "-problem_test", "8",
                          "-problem_model", "batchnorm", "-algorithm", "qp_layer"],
                         ["train_loss", "test_loss", "hypergrad_norm"]),
}
SUITE = [*RUNS.values(), *(args for args, _ in REPORTS.values())]
WITHOUT_HYPERGRADIENT = {"dfl_qp", "sudoku_lp", "portfolio_layer", "ball_layer",
                         "finite_sum_quadratic"}
OUTER_ITERS = 3


def read(path, *names):
    with h5py.File(path, "r") as f:
        return [f[name][()] for name in names]


def relative_difference(got, want):
    """Max-norm relative difference: entries near zero are judged against the vector's scale."""
    assert got.shape == want.shape
    return np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300)


def assert_agree(got, want, what, rtol=1e-10):
    assert got.shape == want.shape, what
    err = relative_difference(got, want)
    assert err <= rtol, f"{what}: relative difference {err:.2e}"


def run_ok(run, *args, ranks):
    result = run(*args, ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr


def test_every_problem_is_classified(run):
    listed = run("-list").stdout
    problems = re.findall(r"^  ([a-z_0-9]+) ", listed[:listed.index("Algorithms:")], re.M)
    assert sorted(problems) == sorted(RUNS), "classify each problem as DISTRIBUTED or REPLICATED"


@pytest.fixture(scope="module")
def short_runs(exe, tmp_path_factory):
    """{ranks: suite file}: every problem's short run, one suite per rank count (one launch)."""
    directory = tmp_path_factory.mktemp("ranks")
    suite = directory / "ranks.suite"
    suite.write_text("".join(f"{' '.join(args)} -outer_iters {OUTER_ITERS} -validate false\n"
                             for args in SUITE))
    files = {}
    for ranks in RANKS:
        files[ranks] = directory / f"suite{ranks}.h5"
        result = launch(exe, "-suite", suite, "-output", files[ranks], cwd=directory,
                        ranks=ranks, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not untrustworthy_successes(files[ranks])
    return files


def run_group(path, args, columns=("upper_objective",)):
    """/x, /state/y and the trace `columns` (or, named state/..., datasets of /state) of the
    suite's run with arguments `args`."""
    prefix = f"run{SUITE.index(args):02d}_"
    with h5py.File(path, "r") as f:
        (group,) = [f[name] for name in f if name.startswith(prefix)]
        return {"x": group["x"][()], "state/y": group["state/y"][()],
                **{column: (group[column] if column.startswith("state/")
                            else group["trace"][column])[()] for column in columns}}


def assert_runs_agree(files, args, columns=("upper_objective",)):
    reference = run_group(files[1], args, columns)
    x = reference["x"]
    # x has moved entry by entry (far beyond the tolerance), so a permuted x would fail.
    assert np.ptp(x) > 1e-6 * np.max(np.abs(x)) or x.size == 1, args
    differences = {}
    for ranks in RANKS[1:]:
        other = run_group(files[ranks], args, columns)
        for name, want in reference.items():
            assert np.all(np.isfinite(want)), f"{name} at 1 rank"
            differences[name, ranks] = relative_difference(other[name], want)
    print(" ".join(f"{name}@{ranks}: {err:.1e}" for (name, ranks), err in differences.items()))
    assert max(differences.values()) <= 1e-10, differences


@pytest.mark.parametrize("problem", sorted(RUNS))
def test_short_runs_agree_at_1_to_4_ranks(short_runs, problem):
    assert_runs_agree(short_runs, RUNS[problem])


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_reports_agree_at_1_to_4_ranks(short_runs, report):
    args, columns = REPORTS[report]
    assert_runs_agree(short_runs, args, columns)


@pytest.mark.parametrize("problem", sorted(set(DISTRIBUTED) - WITHOUT_HYPERGRADIENT))
def test_hypergrad_files_agree_at_1_to_4_ranks(run, tmp_path, short_runs, problem):
    # The x the 1-rank run reached, as a file of its own (-x_from reads the root's /x).
    start = tmp_path / "x.h5"
    with h5py.File(start, "w") as f:
        f["x"] = run_group(short_runs[1], DISTRIBUTED[problem])["x"]
    files = {}
    for ranks in RANKS:
        files[ranks] = tmp_path / f"g{ranks}.h5"
        run_ok(run, "-hypergrad", *DISTRIBUTED[problem], "-x_from", start,
               "-output", files[ranks], ranks=ranks)
    grad, x = read(files[1], "hypergrad", "x")
    assert_agree(x, read(start, "x")[0], f"{problem} /x at 1 rank", rtol=0)
    differences = {}
    for ranks in RANKS[1:]:
        other_grad, other_x = read(files[ranks], "hypergrad", "x")
        assert_agree(other_x, x, f"{problem} /x at {ranks} ranks", rtol=0)
        differences[ranks] = relative_difference(other_grad, grad)
    print(problem, " ".join(f"/hypergrad@{ranks}: {err:.1e}" for ranks, err in differences.items()))
    assert max(differences.values()) <= 1e-10, differences


def test_obstacle_x_and_state_move_between_rank_counts(run, tmp_path):
    # A short run at every rank count: the written iterates agree. x now varies over the grid
    # (unlike the constant initial load) by far more than the tolerance, so a permuted x fails.
    runs = {}
    for ranks in RANKS:
        runs[ranks] = tmp_path / f"run{ranks}.h5"
        run_ok(run, *OBSTACLE, "-outer_iters", "3", "-output", runs[ranks], ranks=ranks)
    x, y = read(runs[1], "x", "state/y")
    assert np.ptp(x) > 1e-6 * np.max(np.abs(x))
    for ranks in RANKS[1:]:
        other_x, other_y = read(runs[ranks], "x", "state/y")
        assert_agree(other_x, x, f"/x at {ranks} ranks")
        assert_agree(other_y, y, f"/state/y at {ranks} ranks")

    # -x_from across layouts: the 2 x 2 file read at 1 and 3 ranks, the 1-rank file at 4; every
    # one evaluates the hypergradient at that x and writes it back unchanged.
    grads = []
    for ranks, source in ((1, runs[4]), (3, runs[4]), (4, runs[1])):
        out = tmp_path / f"g{ranks}_from.h5"
        run_ok(run, "-hypergrad", *OBSTACLE, "-x_from", source, "-output", out, ranks=ranks)
        written_x, grad = read(out, "x", "hypergrad")
        assert_agree(written_x, read(source, "x")[0], f"-x_from at {ranks} ranks: /x", rtol=0)
        grads.append(grad)
    for grad in grads[1:]:
        assert_agree(grad, grads[0], "-x_from: /hypergrad")

    # -restart_from the 3-rank run on a 2 x 2 process grid (x and y read, then written, in the
    # other layout) continues it exactly as one straight 1-rank run.
    resumed = tmp_path / "resumed.h5"
    shutil.copy(runs[3], resumed)
    run_ok(run, *OBSTACLE, "-outer_iters", "6", "-restart_from", resumed, ranks=4)
    straight = tmp_path / "straight.h5"
    run_ok(run, *OBSTACLE, "-outer_iters", "6", "-output", straight, ranks=1)
    assert_agree(read(resumed, "x")[0], read(straight, "x")[0], "-restart_from: /x")
    assert_agree(read(resumed, "state/y")[0], read(straight, "state/y")[0],
                 "-restart_from: /state/y")
    assert_agree(trace(resumed)["upper_objective"], trace(straight)["upper_objective"],
                 "-restart_from: upper_objective")
