"""Analysis tools for bilevelbench result files (HDF5 contract: docs/result-format.md).

Entry point: the ``analysis/bba`` script (subcommands rates, scaling, model, regress, report).
The modules are importable on their own so notebooks and tests can reuse the readers and
fits without going through the command line.
"""

__version__ = "0.1.0"
