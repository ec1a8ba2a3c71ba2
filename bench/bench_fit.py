"""Seconds per epoch of ``model.fit`` against a hand-written PyTorch training loop
(issue "Training": target tkeras <= 1.0x the torch loop).

Run on a quiet machine:  python bench/bench_fit.py [--quick] [--device cuda] [--profile]

Workloads (float32, seeded synthetic data, Adam lr 1e-3, ``fit(verbose=0)``):
  W1 mlp  784-512(relu)-512(relu)-10(softmax), batch 128, 60 batches/epoch
  W2 cnn  the seed-004 convnet on 32x32x3, batch 64, 20 batches/epoch
  W3 lstm Embedding(10000,128)-LSTM(128)-Dense(1,sigmoid), length 80, batch 64, 20 batches/epoch
  W4 small 20-64(relu)-64(relu)-1, batch 32, 200 batches/epoch (framework overhead)

The torch loop is the idiomatic one: the same architecture as ``torch.nn`` modules,
``torch.optim.Adam(lr=1e-3)``, a ``randperm`` per epoch, index the batch, ``zero_grad``,
loss, ``backward``, ``step`` (logits with ``CrossEntropyLoss`` / ``BCEWithLogitsLoss``).
After one warm-up epoch each, tkeras and torch are timed alternately ``--rounds`` times
(``--epochs`` epochs per round, the first loop alternating between rounds); the medians
per epoch are printed, and the median of the per-round ratios with a bootstrap 95%
interval (this 2-core machine's speed drifts by several percent from run to run).
``--quick`` is a smoke run (one round of one epoch, a tenth of the batches).
``--profile`` runs cProfile over tkeras W4 and prints the top functions.
``--jit`` also times tkeras compiled with ``jit_compile=True`` (torch.compile of forward and
loss; its warm-up epoch includes the compilation): the measurement behind eager being
the default.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch
from torch import nn

import tkeras
from tkeras import layers


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# ------------------------------------------------------------------ workloads

class Workload:
    """Data, a tkeras model and the equivalent torch model of one benchmark case."""

    def __init__(self, name: str, batch: int, batches: int, build_keras: Callable,
                 build_torch: Callable, make_data: Callable, keras_loss: str,
                 torch_loss: nn.Module, torch_target: Callable):
        self.name = name
        self.batch = batch
        self.batches = batches
        self.build_keras = build_keras
        self.build_torch = build_torch
        self.make_data = make_data
        self.keras_loss = keras_loss
        self.torch_loss = torch_loss
        self.torch_target = torch_target


def _mlp_keras():
    return tkeras.Sequential([layers.Dense(512, activation="relu", input_shape=(784,)),
                              layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])


def _mlp_torch():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _mlp_data(rng: np.random.RandomState, n: int):
    x = rng.rand(n, 784).astype("float32")
    labels = rng.randint(0, 10, n)
    return x, np.eye(10, dtype="float32")[labels]


def _small_keras():
    return tkeras.Sequential([layers.Dense(64, activation="relu", input_shape=(20,)),
                              layers.Dense(64, activation="relu"), layers.Dense(1)])


def _small_torch():
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 1))


def _small_data(rng: np.random.RandomState, n: int):
    return rng.rand(n, 20).astype("float32"), rng.rand(n, 1).astype("float32")


def _cnn_keras():
    L = layers
    return tkeras.Sequential([
        L.Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(32, 32, 3)),
        L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Dropout(0.25),
        L.Conv2D(64, (3, 3), padding="same", activation="relu"),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Dropout(0.25), L.Flatten(), L.Dense(512, activation="relu"), L.Dropout(0.5),
        L.Dense(10, activation="softmax")])


class _CnnTorch(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 6 * 6, 512), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Linear(512, 10))

    def forward(self, x):  # x: channels_last (batch, 32, 32, 3), as the Keras model gets it
        return self.head(self.features(x.permute(0, 3, 1, 2)))


def _cnn_data(rng: np.random.RandomState, n: int):
    x = rng.rand(n, 32, 32, 3).astype("float32")
    return x, np.eye(10, dtype="float32")[rng.randint(0, 10, n)]


def _lstm_keras():
    return tkeras.Sequential([layers.Embedding(10000, 128, input_length=80),
                              layers.LSTM(128), layers.Dense(1, activation="sigmoid")])


class _LstmTorch(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 128)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.out = nn.Linear(128, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.out(h[-1])


def _lstm_data(rng: np.random.RandomState, n: int):
    return rng.randint(1, 10000, size=(n, 80)).astype("int64"), \
        rng.randint(0, 2, size=(n, 1)).astype("float32")


def _class_index(y: torch.Tensor) -> torch.Tensor:
    return y.argmax(dim=1)


WORKLOADS = {
    "W1": lambda: Workload("W1 mlp 784-512-512-10", 128, 60, _mlp_keras, _mlp_torch, _mlp_data,
                           "categorical_crossentropy", nn.CrossEntropyLoss(), _class_index),
    "W2": lambda: Workload("W2 cnn 32x32x3", 64, 20, _cnn_keras, _CnnTorch, _cnn_data,
                           "categorical_crossentropy", nn.CrossEntropyLoss(), _class_index),
    "W3": lambda: Workload("W3 lstm emb-LSTM(128)", 64, 20, _lstm_keras, _LstmTorch, _lstm_data,
                           "binary_crossentropy", nn.BCEWithLogitsLoss(), lambda y: y),
    "W4": lambda: Workload("W4 small 20-64-64-1", 32, 200, _small_keras, _small_torch,
                           _small_data, "mse", nn.MSELoss(), lambda y: y),
}

_NEEDS = {"W2": ("Conv2D", "MaxPooling2D"), "W3": ("Embedding", "LSTM")}


def missing_layers(key: str) -> Tuple[str, ...]:
    return tuple(name for name in _NEEDS.get(key, ()) if not hasattr(layers, name))


# ------------------------------------------------------------------ the two loops

def keras_runner(work: Workload, x: np.ndarray, y: np.ndarray, device: str,
                 jit_compile: bool = False):
    model = work.build_keras()
    model.to(device)
    model.compile(optimizer=tkeras.optimizers.Adam(lr=1e-3), loss=work.keras_loss,
                  jit_compile=jit_compile or None)

    def run(epochs: int) -> None:
        model.fit(x, y, batch_size=work.batch, epochs=epochs, verbose=0, shuffle=True)
    return run


def torch_runner(work: Workload, x: np.ndarray, y: np.ndarray, device: str):
    model = work.build_torch().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = work.torch_loss
    xt = torch.from_numpy(x).to(device)
    yt = work.torch_target(torch.from_numpy(y)).to(device)
    n, bs = len(x), work.batch

    def run(epochs: int) -> None:
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(n, device=device)
            for start in range(0, n, bs):
                index = perm[start:start + bs]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt[index]), yt[index])
                loss.backward()
                optimizer.step()
    return run


def _timed(run: Callable[[int], None], epochs: int, device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    run(epochs)
    _sync(device)
    return (time.perf_counter() - start) / epochs


def _median_with_interval(values, resamples: int = 2000) -> Tuple[float, float, float]:
    """The median of per-round ratios and a bootstrap 95% interval for it."""
    rng = np.random.default_rng(0)
    medians = [float(np.median(rng.choice(values, len(values)))) for _ in range(resamples)]
    return (float(np.median(values)), float(np.percentile(medians, 2.5)),
            float(np.percentile(medians, 97.5)))


def compare(key: str, device: str, rounds: int, epochs: int, batch_scale: float,
            jit: bool = False) -> Optional[Dict]:
    work = WORKLOADS[key]()
    missing = missing_layers(key)
    if missing:
        print(f"{work.name:<28} skipped: tkeras.layers has no {', '.join(missing)} yet")
        return None
    batches = max(1, int(round(work.batches * batch_scale)))
    rng = np.random.RandomState(0)
    x, y = work.make_data(rng, batches * work.batch)
    torch.manual_seed(0)
    keras_run = keras_runner(work, x, y, device)
    torch_run = torch_runner(work, x, y, device)
    jit_run = keras_runner(work, x, y, device, jit_compile=True) if jit else None
    keras_run(1)  # warm-up epochs (for jit_compile=True: the compilation)
    torch_run(1)
    if jit_run is not None:
        jit_run(1)
    k_times, t_times, j_times = [], [], []
    pair = [(keras_run, k_times), (torch_run, t_times)]
    for i in range(rounds):
        # alternate which loop goes first, so drifts in machine speed hit both alike
        for run, times in (pair if i % 2 == 0 else pair[::-1]):
            times.append(_timed(run, epochs, device))
        if jit_run is not None:
            j_times.append(_timed(jit_run, epochs, device))
    k, t = statistics.median(k_times), statistics.median(t_times)
    paired = [a / b for a, b in zip(k_times, t_times)]
    ratio, low, high = _median_with_interval(paired)
    print(f"{work.name:<28} tkeras {k:8.4f} s/epoch ({k / batches * 1e3:7.3f} ms/step)   "
          f"torch {t:8.4f} s/epoch ({t / batches * 1e3:7.3f} ms/step)   ratio {ratio:5.2f}x "
          f"(95% interval {low:.2f}-{high:.2f})")
    result = {"workload": key, "tkeras_s_per_epoch": k, "torch_s_per_epoch": t, "ratio": ratio,
              "ratio_interval": (low, high)}
    if j_times:
        j = statistics.median(j_times)
        print(f"{'  jit_compile=True':<28} tkeras {j:8.4f} s/epoch ({j / batches * 1e3:7.3f} "
              f"ms/step)   ratio {j / t:5.2f}x")
        result["jit_s_per_epoch"] = j
    return result


def profile_w4(device: str, batch_scale: float) -> None:
    """cProfile of tkeras fit on W4: where the per-step Python time goes."""
    work = WORKLOADS["W4"]()
    batches = max(1, int(round(work.batches * batch_scale)))
    x, y = work.make_data(np.random.RandomState(0), batches * work.batch)
    run = keras_runner(work, x, y, device)
    run(1)
    profiler = cProfile.Profile()
    profiler.enable()
    run(3)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (1 round, 1 epoch, "
                        "a tenth of the batches)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed round")
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="workloads to run")
    parser.add_argument("--profile", action="store_true", help="cProfile tkeras on W4 instead")
    parser.add_argument("--jit", action="store_true",
                        help="also time tkeras with compile(jit_compile=True)")
    args = parser.parse_args(argv)
    rounds, epochs, scale = (1, 1, 0.1) if args.quick else (args.rounds, args.epochs, 1.0)
    if args.profile:
        profile_w4(args.device, scale)
        return
    print(f"torch {torch.__version__}, device {args.device}, {torch.get_num_threads()} threads, "
          f"{rounds} rounds x {epochs} epochs")
    for key in args.only or sorted(WORKLOADS):
        compare(key, args.device, rounds, epochs, scale, jit=args.jit)


if __name__ == "__main__":
    main()
