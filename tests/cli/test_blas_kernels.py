"""OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels on CPUs newer than itself (Intel's
family 6 model 207): dense products at a fifth of the AVX2 rate, silently. bilevelbench
re-executes itself with the widest kernels the CPU runs (SkylakeX's with AVX-512, Haswell's with
AVX2), respects a user's OPENBLAS_CORETYPE, and names the kernels in the result file
(blas_kernels)."""
import os
import subprocess

import h5py
import pytest

from conftest import MPI_ENV, cpu_flags

SHORT_RUN = ["-problem", "toy_sc", "-algorithm", "aid", "-outer_iters", "2"]


def kernels_of_a_run(exe, tmp_path, ranks, coretype=None):
    out = tmp_path / f"run_{ranks}_{coretype}.h5"
    env = {k: v for k, v in {**os.environ, **MPI_ENV}.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    launcher = ["mpiexec", "-n", str(ranks)] if ranks > 1 else []
    result = subprocess.run([*launcher, exe, *SHORT_RUN, "-output", str(out)], env=env,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        return f.attrs["blas_kernels"].decode()


AVX512 = {"avx512f", "avx512dq", "avx512bw", "avx512vl"}


@pytest.mark.parametrize("ranks", [1, 2])
def test_the_widest_kernels_the_cpu_runs(exe, tmp_path, ranks):
    flags = cpu_flags()
    if not {"avx2", "fma"} <= flags:
        pytest.skip("the CPU has no AVX2 and FMA: Prescott may be its best kernels")
    kernels = kernels_of_a_run(exe, tmp_path, ranks)
    if AVX512 <= flags:  # Debian's OpenBLAS picks Haswell on Zen 4 and 5, Prescott on some Xeons
        assert kernels in ("SkylakeX", "Cooperlake", "SapphireRapids")
    else:
        assert kernels != "Prescott"


def test_the_users_choice_of_kernels_is_kept(exe, tmp_path):
    assert kernels_of_a_run(exe, tmp_path, 1, coretype="Prescott") == "Prescott"
