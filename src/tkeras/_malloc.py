"""The C heap: freed tensor memory stays in the process for the next step.

torch's CPU tensors are allocated with ``malloc``. glibc serves a block above its mmap
threshold (at most 32 MB by default) with a fresh ``mmap`` and unmaps it at ``free``, so
every large activation of every training step is faulted in page by page again, and
zeroed by the kernel, before it is written: a ResNet50 training step at batch 16 on this
project's 2-core machine took ~340,000 minor page faults (1.3 GB) per step, and ran ~20%
faster with the blocks kept. (Device tensors are not affected: torch's CUDA allocator
caches on its own.)

``import tkeras`` therefore sets glibc's ``M_MMAP_THRESHOLD`` to 512 MB and
``M_TRIM_THRESHOLD`` to 2 GB with ``mallopt``, so that blocks up to 512 MB come from the
heap and up to 2 GB of freed heap stays mapped, for the next allocation, as the caching
allocators torch recommends for CPU training (jemalloc, tcmalloc) do. The trade-off: the
process's resident memory no longer shrinks below its recent peak when tensors are
freed. It is done only when all of these hold:

* the C library is glibc (Linux; elsewhere nothing is changed),
* the user has not tuned malloc (``GLIBC_TUNABLES`` naming ``malloc``, or one of glibc's
  ``MALLOC_*_`` variables) nor preloaded another allocator (``LD_PRELOAD``),
* ``TKERAS_MALLOC`` is not ``default`` (the opt-out: glibc's own behaviour).

Results are unchanged: only where freed memory goes.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Dict, Mapping, Optional

OPT_OUT_VAR = "TKERAS_MALLOC"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
SETTINGS = {M_MMAP_THRESHOLD: 512 << 20, M_TRIM_THRESHOLD: (2 << 30) - 1}
_USER_MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                     "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX")

applied: Dict[int, int] = {}  # what keep_freed_memory set, for tests and diagnostics


def malloc_settings(environ: Mapping[str, str], glibc: bool) -> Optional[Dict[int, int]]:
    """The ``mallopt`` settings to apply (parameter -> value), or None to leave malloc alone."""
    if not glibc or environ.get(OPT_OUT_VAR, "").strip().lower() == "default":
        return None
    if "malloc" in environ.get("GLIBC_TUNABLES", "") or environ.get("LD_PRELOAD", "").strip():
        return None
    if any(name in environ for name in _USER_MALLOC_VARS):
        return None
    return dict(SETTINGS)


def _glibc() -> Optional[ctypes.CDLL]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        # only glibc has gnu_get_libc_version (not musl); both must exist
        getattr(libc, "gnu_get_libc_version")
        getattr(libc, "mallopt")
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> Dict[int, int]:
    """Applies ``malloc_settings``; returns what was set (empty when nothing was)."""
    libc = _glibc()
    settings = malloc_settings(os.environ, libc is not None)
    if libc is None or not settings:
        return {}
    for parameter, value in settings.items():
        if libc.mallopt(ctypes.c_int(parameter), ctypes.c_int(value)) == 1:
            applied[parameter] = value
    return dict(applied)
