"""`bba report` writes one HTML page whose figures exist and whose table lists every run."""

import base64
import re

import numpy as np
from synth import write_run


def results_dir(d):
    write_run(d / "aid.h5", algorithm="aid")
    write_run(d / "diverged.h5", algorithm="bome", status="diverged",
              trace={"upper_objective": [1.0, 2.0, np.nan], "hypergrad_norm": [1.0, 5.0, np.inf]})
    for i, alg in enumerate(["itd", "bda"]):
        write_run(d / "suite.h5", group=f"run{i}", algorithm=alg, problem="toy_<vi>",
                  trace={"test_accuracy": np.linspace(0.5, 0.9, 20)})
    return d


def images(html):
    return re.findall(r"<img src='([^']+)'", html)


def test_report_references_existing_pngs(tmp_path, bba):
    out = tmp_path / "out" / "report.html"
    rc, stdout, err = bba("report", results_dir(tmp_path / "res"), "-o", out, "--title", "T&C")
    assert rc == 0, err
    page = out.read_text()
    srcs = images(page)
    assert len(srcs) == 4
    for src in srcs:
        assert not src.startswith(("/", "data:"))  # relative, so the folder can be moved
        assert (out.parent / src).read_bytes()[:4] == b"\x89PNG"
    for alg in ("aid", "bome", "itd", "bda"):
        assert f"<td>{alg}</td>" in page
    assert "toy_&lt;vi&gt;" in page and "T&amp;C" in page  # escaped
    assert "status-diverged" in page and "final test_accuracy" in page
    assert "suite.h5:/run1" in page and "MainLoop" in page


def test_report_embed_is_single_file(tmp_path, bba):
    out = tmp_path / "r.html"
    rc, _, err = bba("report", results_dir(tmp_path / "res"), "-o", out, "--embed")
    assert rc == 0, err
    srcs = images(out.read_text())
    assert len(srcs) == 4 and not (tmp_path / "r_files").exists()
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"


def test_report_missing_input(tmp_path, bba):
    rc, _, err = bba("report", tmp_path / "none", "-o", tmp_path / "r.html")
    assert rc == 2 and err.count("\n") == 1 and not (tmp_path / "r.html").exists()
