"""The real `analysis/bba` executable: help for every subcommand, clean errors."""

import subprocess

import pytest
from synth import BBA, write_run


def bba_exe(*args):
    # Run the script itself so its #!/usr/bin/python3 line and sys.path set-up are tested.
    return subprocess.run([str(BBA), *map(str, args)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", ["rates", "scaling", "regress", "report", "curves"])
def test_help(command):
    p = bba_exe(command, "--help")
    assert p.returncode == 0 and p.stdout.startswith(f"usage: bba {command}")


def test_top_level_help_lists_subcommands():
    p = bba_exe("--help")
    assert p.returncode == 0
    assert all(c in p.stdout for c in ("rates", "scaling", "regress", "report"))


def test_missing_metric_and_file(tmp_path):
    f = write_run(tmp_path / "r.h5")
    p = bba_exe("rates", f, "--metric", "avg_h")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "no trace metric 'avg_h'" in p.stderr
    p = bba_exe("scaling", tmp_path / "missing")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no such file" in p.stderr


def test_rates_end_to_end(tmp_path):
    import numpy as np

    f = write_run(tmp_path / "r.h5", trace={"hypergrad_norm": np.arange(1, 101.0) ** -1})
    p = bba_exe("rates", f, "-m", "hypergrad_norm", "--predict", "-1")
    assert p.returncode == 0 and "reproduced" in p.stdout
