"""Command-line front end: one ``bba`` executable with a subcommand per tool.

Exit codes are uniform across subcommands so scripts and CI can rely on them:
0 success, 1 a check failed (regression found, ``rates --strict`` rate missed),
2 bad input or incomparable data (one ``bba <command>: error: ...`` line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from . import (__version__, campaign, compare, curves, history, model, qp_layers, rates, regress,
               report, scaling, tables)
from .common import AnalysisError

SUBCOMMANDS = (campaign, compare, rates, scaling, model, regress, history, report, curves,
               qp_layers, tables)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bba", description="bilevelbench analysis: convergence rates, scaling, "
                                "scaling model, performance regressions, HTML reports.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AnalysisError as exc:
        print(f"bba {args.command}: error: {exc}", file=sys.stderr)
        return 2
