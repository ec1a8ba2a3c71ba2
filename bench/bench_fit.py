"""Seconds per epoch of ``model.fit`` against hand-written PyTorch training loops
(issue 16: tkeras at or under the best peer on each workload).

Run on a quiet machine:  python bench/bench_fit.py [--quick] [--device cuda] [--profile]

Workloads (float32, seeded synthetic data, Adam lr 1e-3, ``fit(verbose=0)``):
  W1 mlp  784-512(relu)-512(relu)-10(softmax), batch 128, 60 batches/epoch
  W2 cnn  the seed-004 convnet on 32x32x3, batch 64, 20 batches/epoch
  W3 lstm Embedding(10000,128)-LSTM(128)-Dense(1,sigmoid), length 80, batch 64, 20 batches/epoch
  W4 small 20-64(relu)-64(relu)-1, batch 32, 200 batches/epoch (framework overhead)

The torch loops are the idiomatic one: the same architecture as ``torch.nn`` modules,
``torch.optim.Adam(lr=1e-3)``, a ``randperm`` per epoch, index the batch, ``zero_grad``,
loss, ``backward``, ``step`` (logits with ``CrossEntropyLoss`` / ``BCEWithLogitsLoss``);
"torch" uses the default (foreach) Adam, "torch fused" ``Adam(fused=True)``. After a
warm-up round each, every loop is timed once per round, ``--rounds`` rounds (``--epochs``
epochs per round; the order reverses every round, so drifts in machine speed hit all
alike). Printed per workload and tkeras variant: the median s/epoch, and the median of the
per-round ratios to each torch loop with a bootstrap 95% interval (this 2-core machine's
speed drifts by several percent from run to run).

tkeras variants, side by side in one process (each its own model and optimizer):
  ``tkeras``           the defaults
  ``--fused-opt``      also ``optimizer.fused = True`` (the compiled optimizer update,
                       ``tkeras.optimizers.fused``; its warm-up includes compiling)
  ``--jit``            also ``compile(jit_compile=True)`` (the whole step compiled: forward,
                       loss, backward, optimizer update; warm-up includes compiling; the row
                       says "whole step" or "partly compiled" where the model is not one graph)
The defaults include automatic compiling (``compile(jit_compile=None)``): the whole step is
compiled once a model's fits come to 20,000 steps (``TKERAS_AUTO_COMPILE_STEPS``), e.g. W4
with ``--epochs 100`` (200 batches an epoch); the row then says so. The warm-up, one round
(``--epochs`` epochs) of each loop, is printed in seconds per variant: the compile cost a
fit of that length pays.

The GEMM kernel (``tkeras._gemm``) is chosen once per process, before torch loads, so it
cannot vary inside one run:
  ``--gemm tkeras``    (default) tkeras is imported first and chooses: on an AVX-512 CPU it
                       sets ``MKL_ENABLE_INSTRUCTIONS=AVX512``, which the in-process torch
                       loops then share
  ``--gemm default``   ``TKERAS_GEMM=default``: torch's own MKL set-up for everything
  ``--torch-process``  runs the torch loops in a child process with torch's default MKL
                       and glibc malloc set-up (as the peer table measured them; tkeras's
                       malloc set-up is ``tkeras._malloc``), still interleaved
                       round by round; tkeras stays in this process with its choice.
So the GEMM gain is ``--torch-process`` against ``--gemm default --torch-process``, and
framework overhead alone is plain ``--gemm tkeras`` (both sides on the same kernel). The
malloc set-up's share: the same run with ``TKERAS_MALLOC=default`` in the environment.

``--quick`` is a smoke run (one round of one epoch, a tenth of the batches).
``--profile`` runs cProfile over tkeras W4 and prints the top functions.
"""
from __future__ import annotations

import argparse
import os
import sys


def _gemm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gemm", choices=("tkeras", "default"), default="tkeras",
                        help="MKL set-up: tkeras's choice (import tkeras first) or torch's")


def _choose_gemm_before_torch_loads() -> None:
    pre = argparse.ArgumentParser(add_help=False)
    _gemm_arguments(pre)
    known, _ = pre.parse_known_args()
    if known.gemm == "default":
        os.environ["TKERAS_GEMM"] = "default"
    # tkeras chooses the GEMM kernel at import, which only works before torch loads: as a
    # user's `import tkeras` first (the imports below would load torch first)
    import tkeras  # noqa: F401


if __name__ == "__main__":
    _choose_gemm_before_torch_loads()

import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import tkeras  # noqa: E402
from tkeras import layers  # noqa: E402


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


# ------------------------------------------------------------------ the loops

Runner = Callable[[int], float]  # runs ``epochs`` epochs, returns seconds per epoch


def keras_runner(work: Workload, x: np.ndarray, y: np.ndarray, device: str,
                 jit_compile: bool = False, fused_opt: bool = False) -> Runner:
    model = work.build_keras()
    model.to(device)
    optimizer = tkeras.optimizers.Adam(lr=1e-3)
    if fused_opt:
        optimizer.fused = True
    model.compile(optimizer=optimizer, loss=work.keras_loss, jit_compile=jit_compile or None)

    def run(epochs: int) -> None:
        model.fit(x, y, batch_size=work.batch, epochs=epochs, verbose=0, shuffle=True)
    timed = _timing(run, device)
    timed.model = model  # type: ignore[attr-defined]  (the report reads how it compiled)
    return timed


def torch_runner(work: Workload, x: np.ndarray, y: np.ndarray, device: str,
                 fused: bool = False) -> Runner:
    model = work.build_torch().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True if fused else None)
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
    return _timing(run, device)


def _timing(run: Callable[[int], None], device: str) -> Runner:
    def timed(epochs: int) -> float:
        _sync(device)
        start = time.perf_counter()
        run(epochs)
        _sync(device)
        return (time.perf_counter() - start) / epochs
    return timed


def _workload_data(key: str, batch_scale: float):
    work = WORKLOADS[key]()
    batches = max(1, int(round(work.batches * batch_scale)))
    x, y = work.make_data(np.random.RandomState(0), batches * work.batch)
    return work, batches, x, y


class ChildTorchRunner:
    """A torch loop in a child process with torch's default MKL and malloc set-up
    (``--torch-process``):
    the child times its own epochs and answers over a pipe, one line per request."""

    def __init__(self, key: str, device: str, batch_scale: float, fused: bool):
        env = {k: v for k, v in os.environ.items() if k != "MKL_ENABLE_INSTRUCTIONS"}
        env["TKERAS_GEMM"] = "default"
        env["TKERAS_MALLOC"] = "default"  # glibc's malloc, as a plain torch process has
        command = [sys.executable, os.path.abspath(__file__), "--worker", key, "--device", device,
                   "--scale", repr(batch_scale)] + (["--worker-fused"] if fused else [])
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        # its start (imports, data) must not overlap anything timed here, warm-ups included
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the torch worker process did not start")

    def __call__(self, epochs: int) -> float:
        self.process.stdin.write(f"{epochs}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the torch worker process ended early")
        return float(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def worker_main(key: str, device: str, batch_scale: float, fused: bool) -> None:
    """The child side of ``ChildTorchRunner``: reads epoch counts, prints s/epoch."""
    work, _, x, y = _workload_data(key, batch_scale)
    torch.manual_seed(0)
    run = torch_runner(work, x, y, device, fused=fused)
    print("ready", flush=True)
    for line in sys.stdin:
        print(run(int(line)), flush=True)


def _median_with_interval(values, resamples: int = 2000) -> Tuple[float, float, float]:
    """The median of per-round ratios and a bootstrap 95% interval for it."""
    rng = np.random.default_rng(0)
    medians = [float(np.median(rng.choice(values, len(values)))) for _ in range(resamples)]
    return (float(np.median(values)), float(np.percentile(medians, 2.5)),
            float(np.percentile(medians, 97.5)))


def compare(key: str, device: str, rounds: int, epochs: int, batch_scale: float,
            jit: bool = False, fused_opt: bool = False,
            torch_process: bool = False) -> Optional[Dict]:
    work = WORKLOADS[key]()
    missing = missing_layers(key)
    if missing:
        print(f"{work.name:<28} skipped: tkeras.layers has no {', '.join(missing)} yet")
        return None
    work, batches, x, y = _workload_data(key, batch_scale)
    torch.manual_seed(0)
    runners: Dict[str, Runner] = {"tkeras": keras_runner(work, x, y, device)}
    if fused_opt:
        runners["tkeras fused-opt"] = keras_runner(work, x, y, device, fused_opt=True)
    if jit:
        runners["tkeras jit"] = keras_runner(work, x, y, device, jit_compile=True)
    children: List[ChildTorchRunner] = []
    for name, fused in (("torch", False), ("torch fused", True)):
        if torch_process:
            children.append(ChildTorchRunner(key, device, batch_scale, fused))
            runners[name] = children[-1]
        else:
            runners[name] = torch_runner(work, x, y, device, fused=fused)
    try:
        # one round's fits (compiled variants compile: jit, and the default's automatic
        # compile when a fit plans enough steps)
        warmup = {name: run(epochs) * epochs for name, run in runners.items()}
        times: Dict[str, List[float]] = {name: [] for name in runners}
        names = list(runners)
        for i in range(rounds):
            for name in (names if i % 2 == 0 else names[::-1]):
                times[name].append(runners[name](epochs))
    finally:
        for child in children:
            child.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {"workload": key, "s_per_epoch": medians, "ratios": {}}
    print(f"{work.name}")
    for name in ("torch", "torch fused"):
        m = medians[name]
        print(f"  {name:<18} {m:8.4f} s/epoch ({m / batches * 1e3:7.3f} ms/step)")
    for name in (n for n in names if n.startswith("tkeras")):
        m = medians[name]
        parts = []
        for base in ("torch", "torch fused"):
            ratio, low, high = _median_with_interval(
                [a / b for a, b in zip(times[name], times[base])])
            result["ratios"][f"{name} / {base}"] = (ratio, low, high)
            parts.append(f"ratio to {base} {ratio:5.2f}x ({low:.2f}-{high:.2f})")
        print(f"  {name:<18} {m:8.4f} s/epoch ({m / batches * 1e3:7.3f} ms/step)   "
              + "   ".join(parts) + f"   warm-up {warmup[name]:.1f} s{_how_compiled(runners[name])}")
    return result


def _how_compiled(run: Runner) -> str:
    runner = getattr(getattr(run, "model", None), "_step_runner", None)
    if runner is None:
        return ""
    if runner.whole_step_compiled:
        return " (whole step)" if runner.jit else " (whole step, compiled automatically)"
    return " (partly compiled)" if runner.jit else ""


def profile_w4(device: str, batch_scale: float) -> None:
    """cProfile of tkeras fit on W4: where the per-step Python time goes."""
    work, _, x, y = _workload_data("W4", batch_scale)
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
    parser.add_argument("--fused-opt", action="store_true",
                        help="also time tkeras with optimizer.fused = True")
    parser.add_argument("--torch-process", action="store_true",
                        help="torch loops in a child process with torch's default MKL set-up")
    _gemm_arguments(parser)
    parser.add_argument("--worker", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-fused", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.device, args.scale, args.worker_fused)
        return
    rounds, epochs, scale = (1, 1, 0.1) if args.quick else (args.rounds, args.epochs, 1.0)
    if args.profile:
        profile_w4(args.device, scale)
        return
    print(f"torch {torch.__version__}, device {args.device}, {torch.get_num_threads()} threads, "
          f"{rounds} rounds x {epochs} epochs; MKL_ENABLE_INSTRUCTIONS="
          f"{os.environ.get('MKL_ENABLE_INSTRUCTIONS', '(unset)')} (--gemm {args.gemm}); "
          f"torch loops {'in a child process, default MKL' if args.torch_process else 'here'}")
    print("malloc: freed memory kept (tkeras._malloc) in this process"
          + (", glibc's defaults in the torch child" if args.torch_process else
             ", shared by the torch loops") if tkeras._malloc.applied else "malloc: glibc's defaults")
    for key in args.only or sorted(WORKLOADS):
        compare(key, args.device, rounds, epochs, scale, jit=args.jit, fused_opt=args.fused_opt,
                torch_process=args.torch_process)


if __name__ == "__main__":
    main()
