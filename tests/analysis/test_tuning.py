"""`bba tuning`: a sweep's settings ranked per method by the final metric."""

import numpy as np
from synth import write_run

NAN = float("nan")


def sweep_run(d, algorithm, step, seed, phi, status="completed"):
    opts = f"-problem adversarial_ls -algorithm {algorithm} -alg_step {step} -seed {seed}"
    write_run(d / f"{algorithm}_{step}_{seed}.h5", problem="adversarial_ls",
              algorithm=algorithm, seed=seed, status=status, options=opts,
              trace={"phi": np.array([2.0, NAN, phi, NAN])})


def table_rows(out, heading):
    block = out.split(heading, 1)[1].split("\n\n", 2)[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()[2:]]


def test_settings_ranked_best_first_diverged_last(tmp_path, bba):
    for seed, (a, b) in enumerate([(0.5, 0.3), (0.7, 0.4), (0.6, 0.2)]):
        sweep_run(tmp_path, "itd", "1e-1", seed, a)
        sweep_run(tmp_path, "itd", "1e-2", seed, b)
    sweep_run(tmp_path, "itd", "1e1", 0, NAN, status="diverged")
    sweep_run(tmp_path, "bda", "1e0", 0, 0.25)
    rc, out, err = bba("tuning", tmp_path, "-m", "phi")
    assert rc == 0, err
    rows = table_rows(out, "adversarial_ls / itd")
    assert [r[1] for r in rows] == ["itd (alg_step=1e-2)", "itd (alg_step=1e-1)",
                                    "itd (alg_step=1e1)"]
    assert rows[0][2:] == ["3", "3 completed", "0.3"]  # the median over seeds
    assert rows[2][3:] == ["diverged", "-"]
    assert table_rows(out, "adversarial_ls / bda")[0][1] == "bda"


def test_accuracy_ranks_higher_first(tmp_path, bba):
    for step, acc in (("1e0", 0.7), ("1e2", 0.9)):
        write_run(tmp_path / f"{step}.h5", problem="hyperparam_logreg", algorithm="itd",
                  options=f"-problem hyperparam_logreg -algorithm itd -alg_step {step}",
                  trace={"test_accuracy": np.array([0.1, acc])})
    rc, out, err = bba("tuning", tmp_path, "-m", "test_accuracy")
    assert rc == 0, err
    assert [r[1] for r in table_rows(out, "hyperparam_logreg / itd")] == [
        "itd (alg_step=1e2)", "itd (alg_step=1e0)"]
