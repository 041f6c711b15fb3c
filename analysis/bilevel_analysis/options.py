"""bilevelbench option lists (``["-problem", "quadratic", "-outer_iters", "50"]``) as campaigns
and sweeps build them, and the command-line pieces those commands share.
"""

from __future__ import annotations

import os
from pathlib import Path

from .common import AnalysisError

REPO = Path(__file__).resolve().parents[2]
#: Set by whatever starts the run (a campaign's runner, a batch job): never by its options.
RESERVED = frozenset({"-output", "-restart_from"})


def option_value(words: list, name: str):
    """The value following ``name`` in an option list, or None."""
    for i, word in enumerate(words[:-1]):
        if word == name:
            return words[i + 1]
    return None


def without(words: list, names) -> list:
    """The option list without the named options and their values."""
    out, skip = [], False
    for word in words:
        if not skip and word not in names:
            out.append(word)
        skip = not skip and word in names
    return out


def check_reserved(words: list, where: str, owned=()) -> None:
    bad = sorted(RESERVED.union(owned).intersection(words))
    if bad:
        raise AnalysisError(f"{where}: {' '.join(bad)} is set for the run, not by its options")


def scale_option(words: list, name: str, factor: int, where: str) -> list:
    """Weak scaling: the list with integer option ``name`` (a per-rank size) times ``factor``."""
    name = name if name.startswith("-") else "-" + name
    value = option_value(words, name)
    if value is None:
        raise AnalysisError(f"{where}: weak-scaling option {name} is not among the options")
    try:
        per_rank = int(value)
    except ValueError:
        raise AnalysisError(f"{where}: weak-scaling option {name}: value {value!r} is not an "
                            f"integer") from None
    out = list(words)
    out[out.index(name) + 1] = str(per_rank * factor)
    return out


def add_binary_argument(parser, *flags: str) -> None:
    """The bilevelbench executable a command runs or submits, the same default everywhere."""
    parser.add_argument(*flags, dest="binary",
                        default=os.environ.get("BILEVELBENCH",
                                               str(REPO / "build" / "bilevelbench")),
                        help="bilevelbench executable (default: $BILEVELBENCH or "
                             "build/bilevelbench)")
