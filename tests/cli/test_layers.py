"""The source tree is layered: a file includes only headers of its own directory or of a lower
layer (docs/architecture.md, "Layers"). An include that runs back up (a problem reaching for a
method, a solver for the catalog) fails here with the file and the include named."""
import re

from conftest import REPO

# Lowest first. Directories on one rank are independent of each other.
RANK = {
    "core": 0,
    "io": 1, "sets": 1,
    "qp": 2,
    "problems": 3,
    "solvers": 4,
    "methods": 5,
    "validation": 6,
    "capabilities": 7,
    "catalog": 8, "driver": 8,
    "cli": 9,
}
# Generated headers (build/): the version string and the quick suite's text.
GENERATED = {"version": 0, "quick_suite": 8}
INCLUDE = re.compile(r'#include "bilevel/([a-z_]+)')


def _layer(path):
    """The layer of a source or header: its directory, or its name for top-level files."""
    relative = path.relative_to(REPO)
    parts = relative.parts[2:] if relative.parts[0] == "include" else relative.parts[1:]
    return parts[0].split(".")[0]


def _sources():
    for root in (REPO / "src", REPO / "include" / "bilevel"):
        yield from sorted(p for p in root.rglob("*") if p.suffix in (".cpp", ".hpp"))


def test_every_directory_has_a_layer():
    unknown = {_layer(p) for p in _sources()} - RANK.keys()
    assert not unknown, f"give these directories a rank in RANK: {sorted(unknown)}"


def test_no_include_runs_up_the_layers():
    upward = []
    for path in _sources():
        own = _layer(path)
        for target in INCLUDE.findall(path.read_text()):
            rank = GENERATED.get(target, RANK.get(target))
            if target != own and (rank is None or rank >= RANK[own]):
                upward.append(f"{path.relative_to(REPO)} ({own}) includes bilevel/{target}")
    assert not upward, "\n".join(upward)
