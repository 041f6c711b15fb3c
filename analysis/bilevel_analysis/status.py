"""How a run stands, in the words of a result file's ``status`` attribute.

The binary writes one of the words of ``RunStatus`` (include/bilevel/core/run_status.hpp,
``status_word``); a file that cannot tell adds four more. Campaigns, batch jobs
(jobs/h5status in the job template) and the tables all decide with these sets, so a run that
one of them calls finished is finished for all.
"""

from __future__ import annotations

from pathlib import Path

#: The binary's words (status_word in src/core/run_status.cpp).
RUNNING, COMPLETED, CONVERGED, DIVERGED, INTERRUPTED = (
    "running", "completed", "converged", "diverged", "interrupted")
#: Words for a file that does not say: none there, HDF5 cannot open it, no status attribute,
#: or running/interrupted without the /state a restart needs (killed before its first flush).
MISSING, UNREADABLE, UNKNOWN, UNRESUMABLE = "missing", "unreadable", "unknown", "unresumable"

#: The run did what it was asked (its numbers stand; `validity` says how far to trust them).
RAN_TO_END = frozenset({COMPLETED, CONVERGED})
#: Not run again: a divergence is an outcome of its method, not a failure of the run.
FINISHED = RAN_TO_END | {DIVERGED}
#: Continued with -restart_from (a hard kill leaves `running` after the last flush).
RESUMABLE = frozenset({INTERRUPTED, RUNNING})


def file_status(path, check_state: bool = True) -> str:
    """The status word of a result file, or MISSING / UNREADABLE / UNKNOWN, or (with
    ``check_state``) UNRESUMABLE for a running or interrupted file without /state, or whose
    /state says it is not enough to continue the run (``restartable`` 0: SABA without its
    memories).

    Reads without HDF5 file locks: a run killed hard can leave its file locked by a process
    that no longer exists, and a status must still be read.
    """
    path = Path(path)
    if not path.exists():
        return MISSING
    import h5py  # lazily: the job template calls this once per job start

    try:
        with h5py.File(path, "r", locking=False) as f:
            value = f.attrs.get("status")
            has_state = "state" in f and int(f["state"].attrs.get("restartable", 1)) != 0
    except OSError:
        return UNREADABLE
    if value is None:
        return UNKNOWN
    value = value.decode() if isinstance(value, bytes) else str(value)
    return value if value not in RESUMABLE or has_state or not check_state else UNRESUMABLE
