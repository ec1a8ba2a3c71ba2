"""Step time of ``train_on_batch`` under the ``mixed_bfloat16`` policy against ``float32``.

Run on a quiet machine:  python bench/bench_mixed_precision.py [--quick] [--device cuda]

Workloads (seeded synthetic data, SGD, one ``train_on_batch`` per step):
  mlp  1024-2048(relu)-2048(relu)-10(softmax, float32 output layer), batch 256
  cnn  Conv2D(64,3)-Conv2D(64,3)-MaxPool-Flatten-Dense(10, softmax float32), 32x32x3, batch 64

The same architecture is built twice, under each global policy (weights float32 both times;
under mixed_bfloat16 the layers compute in bfloat16). After warm-up steps the two are timed
alternately ``--rounds`` times; the median step times and the median per-round ratio
bfloat16 / float32 are printed (below 1.0: mixed precision is faster). On CPUs without
bfloat16 matrix units expect a ratio above 1; the gain is on GPUs (and ``mixed_float16``
with a ``LossScaleOptimizer`` on GPUs without bfloat16).
``--quick`` is a smoke run (tiny sizes, one round).
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
import torch

import tkeras
from tkeras import layers, mixed_precision


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _mlp(width: int) -> tkeras.Model:
    return tkeras.Sequential([layers.Input((width // 2,)), layers.Dense(width, activation="relu"),
                              layers.Dense(width, activation="relu"), layers.Dense(10),
                              layers.Activation("softmax", dtype="float32")])


def _cnn(filters: int) -> tkeras.Model:
    return tkeras.Sequential([layers.Input((32, 32, 3)),
                              layers.Conv2D(filters, 3, activation="relu"),
                              layers.Conv2D(filters, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10),
                              layers.Activation("softmax", dtype="float32")])


def _build(policy: str, make: Callable[[], tkeras.Model], device: str) -> tkeras.Model:
    with mixed_precision.policy_scope(policy):
        model = make()
    model.to(device)
    model.compile(tkeras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    return model


def _step_times(models: Dict[str, tkeras.Model], x, y, steps: int, rounds: int,
                device: str) -> Dict[str, List[float]]:
    times: Dict[str, List[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            _sync(device)
            times[name].append((time.perf_counter() - start) / steps)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    width, filters, batch = (64, 4, 8) if args.quick else (2048, 64, 256)
    rounds, steps, warmup = (1, 2, 1) if args.quick else (args.rounds, args.steps, 5)
    rng = np.random.RandomState(0)
    workloads = {
        "mlp": (lambda: _mlp(width), rng.standard_normal((batch, width // 2)).astype("float32")),
        "cnn": (lambda: _cnn(filters), rng.standard_normal((batch // 4 or 1, 32, 32, 3))
                .astype("float32")),
    }
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    for name, (make, x) in workloads.items():
        y = rng.randint(0, 10, len(x))
        tkeras.utils.set_random_seed(0)
        models = {policy: _build(policy, make, args.device)
                  for policy in ("float32", "mixed_bfloat16")}
        _step_times(models, x, y, warmup, 1, args.device)
        times = _step_times(models, x, y, steps, rounds, args.device)
        ratio = statistics.median(b / f for b, f in zip(times["mixed_bfloat16"], times["float32"]))
        print(f"  {name}: float32 {statistics.median(times['float32']) * 1e3:8.3f} ms/step, "
              f"mixed_bfloat16 {statistics.median(times['mixed_bfloat16']) * 1e3:8.3f} ms/step, "
              f"bfloat16 / float32 ratio {ratio:5.2f}x")


if __name__ == "__main__":
    main()
