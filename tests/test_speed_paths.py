"""The speed mechanisms (issue 16) give the results of the plain paths, within float32 rounding:
the GEMM kernel choice made at import, the compiled (fused) optimizer update."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tkeras import _gemm

# ------------------------------------------------------------------ GEMM: MKL_ENABLE_INSTRUCTIONS

AVX512_CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 avx512f avx512dq\n"
AVX2_CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 fma\n"
HAS_AVX512 = "avx512f" in _gemm.cpu_flags()


def test_gemm_decision_rules():
    avx512, avx2 = _gemm.cpu_flags(AVX512_CPUINFO), _gemm.cpu_flags(AVX2_CPUINFO)
    assert "avx512f" in avx512 and "avx512f" not in avx2
    assert _gemm.mkl_instructions({}, False, avx512) == "AVX512"
    assert _gemm.mkl_instructions({}, False, avx2) is None  # nothing to unlock
    assert _gemm.mkl_instructions({}, True, avx512) is None  # torch (MKL) already loaded
    assert _gemm.mkl_instructions({"MKL_ENABLE_INSTRUCTIONS": "AVX2"}, False, avx512) is None
    assert _gemm.mkl_instructions({"TKERAS_GEMM": "default"}, False, avx512) is None
    assert _gemm.mkl_instructions({"TKERAS_GEMM": "auto"}, False, avx512) == "AVX512"
    assert _gemm.cpu_flags("no flags here") == frozenset()


def _child(code, **env_changes):
    """Runs ``code`` in a fresh interpreter (this worktree's tkeras first on the path);
    returns its stdout's last line, parsed as JSON."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MKL_ENABLE_INSTRUCTIONS", "TKERAS_GEMM")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


_REPORT = "import os, json; print(json.dumps(os.environ.get('MKL_ENABLE_INSTRUCTIONS')))"


def test_import_tkeras_first_sets_mkl_instructions_on_avx512_cpus():
    value = _child("import tkeras\n" + _REPORT)
    assert value == ("AVX512" if HAS_AVX512 else None)


def test_mkl_instructions_untouched_after_torch_or_when_set_or_opted_out():
    assert _child("import torch\nimport tkeras\n" + _REPORT) is None
    assert _child("import tkeras\n" + _REPORT, MKL_ENABLE_INSTRUCTIONS="AVX2") == "AVX2"
    assert _child("import tkeras\n" + _REPORT, TKERAS_GEMM="default") is None


_DENSE = """
import json, numpy as np, tkeras, torch
rng = np.random.RandomState(0)
layer = tkeras.layers.Dense(512, activation="relu")
x = rng.rand(128, 784).astype("float32")
y = layer(torch.from_numpy(x))
w = layer.kernel.detach().numpy().astype("float64")
z = np.maximum(x.astype("float64") @ w, 0.0)  # the float64 reference (bias is zero)
print(json.dumps([float(np.abs(y.detach().numpy() - z).max()), float(np.abs(z).max())]))
"""


@pytest.mark.skipif(not HAS_AVX512, reason="the CPU has no AVX-512: nothing is changed")
def test_dense_results_with_and_without_the_fast_gemm_agree_to_float32_rounding():
    fast_error, scale = _child(_DENSE)
    default_error, _ = _child(_DENSE, TKERAS_GEMM="default")
    # a 784-term float32 dot product: both paths within float32 rounding of the exact sum
    for error in (fast_error, default_error):
        assert error <= 784 * np.finfo(np.float32).eps * scale
