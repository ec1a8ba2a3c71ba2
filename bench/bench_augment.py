"""Augmenting a batch of 32 32x32x3 images (rotation, shifts, shear, zoom, flips): the
torch batch path of ``ImageDataGenerator(batch_augment=...)`` against Keras's per-image
scipy loop doing the same transforms, as a ratio (issue 12: target >= 5x).

Run on a quiet machine:  python bench/bench_augment.py [--device cuda] [--quick]
Both paths get the same parameter dicts (drawn once with ``get_random_transform``); the
cases run interleaved in one process and each line reports medians of several repeats.
``--quick`` uses few iterations: a smoke test that the script runs.
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch

from _timing import interleaved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="few iterations, a smoke test")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's; scipy uses one)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from tkeras.preprocessing.image import ImageDataGenerator, apply_transform_batch

    device = torch.device(args.device)
    number = 2 if args.quick else 20
    repeats = 2 if args.quick else args.repeats
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.1, height_shift_range=0.1,
                             shear_range=10, zoom_range=0.2, horizontal_flip=True,
                             vertical_flip=True, fill_mode="nearest")
    x = np.random.default_rng(0).random((32, 32, 32, 3)).astype("float32")
    np.random.seed(0)
    params = [gen.get_random_transform(x.shape[1:]) for _ in range(len(x))]

    def scipy_loop():
        return np.stack([gen.apply_transform(image, p) for image, p in zip(x, params)])

    def torch_batch():
        batch = torch.from_numpy(x).to(device)
        out = apply_transform_batch(batch, params, channel_axis=3, fill_mode="nearest")
        return out if device.type == "cuda" else out.numpy()

    diff = np.abs(np.asarray(torch_batch().cpu() if device.type == "cuda" else torch_batch())
                  - scipy_loop()).max()
    times = interleaved({"scipy per-image loop": scipy_loop, "torch batch": torch_batch},
                        number, repeats, device)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"augment 32x32x32x3 (rotation, shifts, shear, zoom, flips), device={device}, "
          f"torch threads={torch.get_num_threads()}")
    for name, t in med.items():
        print(f"  {name:22s} {t * 1e3:8.3f} ms / batch")
    print(f"  max |torch - scipy| = {diff:.2e}")
    print(f"ratio scipy / torch = {med['scipy per-image loop'] / med['torch batch']:.2f}x "
          "(target >= 5x)")


if __name__ == "__main__":
    main()
