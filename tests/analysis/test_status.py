"""The status words: the binary's (status_word), and what a file that cannot say is called."""

import re
from pathlib import Path

import h5py

from bilevel_analysis import status

REPO = Path(__file__).resolve().parents[2]


def test_the_binarys_words_are_the_packages():
    """Campaigns, tables and job scripts decide with status.py's words; the binary writes
    status_word's. A word added or renamed on one side fails here."""
    source = (REPO / "src" / "core" / "run_status.cpp").read_text()
    written = set(re.findall(r'return "([a-z_]+)";', source))
    assert written == {status.RUNNING, status.COMPLETED, status.CONVERGED, status.DIVERGED,
                       status.INTERRUPTED}
    assert status.FINISHED <= written and status.RESUMABLE <= written


def test_files_that_cannot_say(tmp_path):
    assert status.file_status(tmp_path / "none.h5") == status.MISSING
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")
    assert status.file_status(tmp_path / "broken.h5") == status.UNREADABLE
    with h5py.File(tmp_path / "bare.h5", "w"):
        pass
    assert status.file_status(tmp_path / "bare.h5") == status.UNKNOWN
    with h5py.File(tmp_path / "early.h5", "w") as f:  # killed before its first /state
        f.attrs["status"] = "running"
    assert status.file_status(tmp_path / "early.h5") == status.UNRESUMABLE
    assert status.file_status(tmp_path / "early.h5", check_state=False) == status.RUNNING
    with h5py.File(tmp_path / "stopped.h5", "w") as f:
        f.attrs["status"] = "interrupted"
        f.create_group("state")
    assert status.file_status(tmp_path / "stopped.h5") == status.INTERRUPTED
    with h5py.File(tmp_path / "partial.h5", "w") as f:  # its state cannot continue the run
        f.attrs["status"] = "interrupted"
        f.create_group("state").attrs["restartable"] = 0
    assert status.file_status(tmp_path / "partial.h5") == status.UNRESUMABLE
