"""`bba history`: change points across releases (a slowdown, a changed number), none between
releases that only differ by noise."""

import re

import numpy as np
from synth import noisy, write_run


def release(d, time_per_iter, objective, seed):
    for r, t in enumerate(noisy(np.full(10, time_per_iter), 0.02, seed)):
        k = np.arange(10.0)
        write_run(d / f"r{r}.h5", options=f"-problem quadratic -algorithm aid -seed {r}",
                  trace={"time": t * (k + 1), "upper_objective": np.full(10, objective)})
    return d


def test_change_points_are_the_slowdown_and_the_changed_objective(tmp_path, bba):
    dirs = [release(tmp_path / "v0.1", 1.0, 2.5, 1), release(tmp_path / "v0.2", 1.0, 2.5, 2),
            release(tmp_path / "v0.3", 1.2, 2.5, 3), release(tmp_path / "v0.4", 1.2, 2.6, 4)]
    out = tmp_path / "h" / "history.html"
    rc, stdout, err = bba("history", *dirs, "-o", out)
    assert rc == 0, err
    page = out.read_text()
    rows = re.findall(r"<tr><td>quadratic/aid np=1</td><td>(v0\.\d)</td><td>([^<]*)</td></tr>",
                      page)
    assert [r[0] for r in rows] == ["v0.3", "v0.4"], rows
    assert re.match(r"time x1\.[12]\d* \(p = ", rows[0][1])  # 1.2 with 2 % noise
    assert "upper_objective 2.5 -&gt; 2.6" in rows[1][1]
    srcs = re.findall(r"<img src='([^']+)'", page)
    assert len(srcs) == 1 and (out.parent / srcs[0]).read_bytes()[:4] == b"\x89PNG"


def test_one_release_is_not_a_history(tmp_path, bba):
    rc, _, err = bba("history", release(tmp_path / "v1", 1.0, 1.0, 1))
    assert rc == 2 and "at least two releases" in err
