"""Timing helpers shared by the bench scripts: per-call seconds, cases interleaved per repeat."""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import torch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[], object], number: int, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(number):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / number


def interleaved(cases: Dict[str, Callable[[], object]], number: int, repeats: int,
                device: torch.device, warmup: Optional[int] = None) -> Dict[str, List[float]]:
    """Seconds per call of each case, timed in turn within every repeat.

    Each case first runs ``warmup`` times (default ``max(number // 5, 2)``: kernel
    selection, allocator).
    """
    warmup = max(number // 5, 2) if warmup is None else warmup
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times: Dict[str, List[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            times[name].append(_time(fn, number, device))
    return times
