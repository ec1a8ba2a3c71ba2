"""The float32 GEMM kernel: lets torch's MKL use its AVX-512 code on every CPU that has it.

torch's CPU float32 matmul (``torch.mm``, ``nn.functional.linear``: Dense layers, and
recurrent cells that tkeras runs step by step) is MKL's SGEMM; the LSTM / GRU layers that go
through torch's fused kernel (``aten::mkldnn_rnn_layer``) already use oneDNN's GEMM. MKL
picks its code path from the CPU vendor, and on AMD CPUs
with AVX-512 (EPYC Zen 4 and later) it takes a slower AVX2 path: (128, 784) x (784, 512)
ran at ~98 GFLOP/s there against ~155 GFLOP/s with ``MKL_ENABLE_INSTRUCTIONS=AVX512``.
MKL reads that variable once, when it initialises, so it only works when set before torch
loads; ``import tkeras`` sets it when all of these hold:

* torch has not been imported yet (otherwise MKL may have started; nothing is changed),
* the user has not set ``MKL_ENABLE_INSTRUCTIONS`` (theirs is kept),
* ``TKERAS_GEMM`` is not ``default`` (the opt-out: torch's own choice),
* the CPU reports ``avx512f`` (``/proc/cpuinfo`` on Linux; elsewhere nothing is changed).

On Intel CPUs with AVX-512 this is MKL's own default, so it changes nothing there. (Dense
layers' larger products go to oneDNN's GEMM instead, faster still: ``backend.linear_ops``.) The
value only allows an instruction set the CPU has; results differ from the default path by
float32 rounding at most (a different blocking / FMA order of the same sums).

This module imports nothing heavy: ``tkeras/__init__`` runs it before importing torch.
"""
from __future__ import annotations

import os
import sys
from typing import Mapping, Optional

ENV_VAR = "MKL_ENABLE_INSTRUCTIONS"
OPT_OUT_VAR = "TKERAS_GEMM"
_CPUINFO = "/proc/cpuinfo"
_flags: Optional[frozenset] = None  # this machine's, read once


def cpu_flags(cpuinfo: Optional[str] = None) -> frozenset:
    """The ``flags`` of the first CPU in ``/proc/cpuinfo`` (empty where it is unreadable)."""
    global _flags
    if cpuinfo is None:
        if _flags is None:
            try:
                with open(_CPUINFO, encoding="ascii", errors="replace") as f:
                    _flags = cpu_flags(f.read())
            except OSError:
                _flags = frozenset()
        return _flags
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def opted_out(environ: Mapping[str, str]) -> bool:
    """``TKERAS_GEMM=default``: torch's own float32 GEMM set-up, here and for Dense layers
    (``backend.linear_ops``)."""
    return environ.get(OPT_OUT_VAR, "").strip().lower() == "default"


def mkl_instructions(environ: Mapping[str, str], torch_imported: bool,
                     flags: frozenset) -> Optional[str]:
    """The ``MKL_ENABLE_INSTRUCTIONS`` value to set, or None to leave the environment alone."""
    if torch_imported or ENV_VAR in environ or opted_out(environ):
        return None
    return "AVX512" if "avx512f" in flags else None


def prefer_fast_gemm() -> Optional[str]:
    """Sets ``MKL_ENABLE_INSTRUCTIONS`` when ``mkl_instructions`` says so; returns the value set."""
    torch_imported = "torch" in sys.modules
    if torch_imported or ENV_VAR in os.environ:  # skip reading cpuinfo when it cannot matter
        return None
    value = mkl_instructions(os.environ, torch_imported, cpu_flags())
    if value is not None:
        os.environ[ENV_VAR] = value
    return value
