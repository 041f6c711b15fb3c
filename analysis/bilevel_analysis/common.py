"""Small helpers shared by the subcommands.

They live here so that error reporting, table formatting and plotting setup behave the
same in every subcommand (one clear stderr line per error, identical Markdown tables).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Iterable, Sequence


class AnalysisError(Exception):
    """A problem with the user's input (missing file, missing metric, bad value).

    The CLI turns it into a single ``bba <command>: error: <message>`` line on stderr and
    exit code 2, so scripts and CI see a clear reason rather than a traceback.
    """


def pyplot():
    """Return matplotlib.pyplot with the non-interactive Agg backend.

    Imported lazily: matplotlib costs about half a second to import, which subcommands
    that do not plot (and the test suite) should not pay. Agg works without a display,
    as on compute nodes and in CI.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fmt_num(value: Any, digits: int = 4) -> str:
    """Format a number compactly for tables; None/NaN become '-' so gaps are visible."""
    if value is None:
        return "-"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "-"
    return f"{v:.{digits}g}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Render a GitHub-flavoured Markdown table (numbers right-aligned) as a string."""
    cells = [[fmt_num(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    def line(items):
        return "| " + " | ".join(s.ljust(w) for s, w in zip(items, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells]
    return "\n".join(out)


def to_json(obj: Any) -> str:
    """Serialise results to JSON, mapping NaN/inf to null (strict JSON has no NaN)."""
    def clean(o):
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if hasattr(o, "item") and not isinstance(o, (str, bytes)):
            o = o.item()  # numpy scalar
        if isinstance(o, float) and not math.isfinite(o):
            return None
        return o

    return json.dumps(clean(obj), indent=2, sort_keys=False)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show '(default: ...)' only for options that have a meaningful default, so --help
    is not cluttered with 'default: None' on every optional flag."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)
