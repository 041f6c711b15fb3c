"""Command-line front end: one ``bba`` executable with a subcommand per tool.

Exit codes are uniform across subcommands so scripts and CI can rely on them:
0 success, 1 a check failed (regression found, ``rates --strict`` rate missed),
2 bad input or incomparable data (one ``bba <command>: error: ...`` line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from . import (__version__, campaign, compare, curves, history, model, qp_layers, quantiles, rates,
               regress, report, scaling, sweep, tables, tuning)
from .common import AnalysisError

SUBCOMMANDS = (campaign, sweep, compare, quantiles, rates, scaling, model, regress, history, report,
               curves, qp_layers, tables, tuning)


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
    # Options after "--" are bilevelbench's (bba sweep passes them to every run); argparse's
    # own "--" handling does not reach into a subcommand, so they are split off here.
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    parser = build_parser()
    args = parser.parse_args(argv[:cut])
    args.program_options = argv[cut + 1:]
    args.own_words = argv[argv.index(args.command) + 1:cut]
    if cut < len(argv) and not getattr(args, "takes_program_options", False):
        parser.error(f"bba {args.command} takes no bilevelbench options after '--'")
    try:
        return args.func(args)
    except AnalysisError as exc:
        print(f"bba {args.command}: error: {exc}", file=sys.stderr)
        return 2
