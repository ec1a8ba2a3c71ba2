"""Timing helpers shared by the bench scripts: per-call seconds, cases interleaved per repeat."""
from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

CPU = torch.device("cpu")


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


def paired(keras_fn: Callable[[], object], torch_fn: Callable[[], object], number: int,
           repeats: int, warmup: int, device: torch.device = CPU,
           alternate: bool = False) -> Tuple[float, float, float]:
    """``(median ratio keras / torch, median seconds per call of each)``: both run ``warmup``
    times, then each repeat times torch then keras (``alternate``: the other order on odd
    repeats)."""
    for _ in range(warmup):
        keras_fn()
        torch_fn()
    ratios, k_times, t_times = [], [], []
    for r in range(repeats):
        if alternate and r % 2:
            k = _time(keras_fn, number, device)
            t = _time(torch_fn, number, device)
        else:
            t = _time(torch_fn, number, device)
            k = _time(keras_fn, number, device)
        k_times.append(k)
        t_times.append(t)
        ratios.append(k / t)
    return statistics.median(ratios), statistics.median(k_times), statistics.median(t_times)
