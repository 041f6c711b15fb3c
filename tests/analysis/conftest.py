"""Make the analysis package (analysis/) and the synthetic-data helpers importable.

The tests run with Debian's /usr/bin/python3 and no installed package, so the path is set
here rather than relying on pip or PYTHONPATH.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANALYSIS = HERE.parents[1] / "analysis"
for p in (str(ANALYSIS), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import pytest  # noqa: E402


@pytest.fixture
def bba(capsys):
    """Run the CLI in-process: bba("rates", path, ...) -> (exit code, stdout, stderr).

    In-process keeps the suite fast (no interpreter start-up per call); test_cli.py
    covers the real executable.
    """
    from bilevel_analysis.cli import main

    def call(*args):
        rc = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return rc, out, err

    return call
