"""Seconds per epoch of ``model.fit`` against hand-written PyTorch training loops
(issue 16: tkeras at or under the best peer on each workload).

Run on a quiet machine:  python bench/bench_fit.py [--quick] [--device cuda] [--profile]
                         [--peers tf-keras keras3-jax ... --peer-python PYTHON]

Workloads W1 (mlp), W2 (cnn), W3 (lstm), W4 (small mlp: framework overhead): their Keras
side (seeded data, batch sizes, losses, models) is ``fit_workloads.py``, written once for
tkeras and the peers; Adam lr 1e-3, ``fit(verbose=0)``.

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

``--peers`` also times other Keras implementations on the same workloads, in the same
rounds: ``tf-keras`` (Keras 2 on TensorFlow) and Keras 3 on JAX, TensorFlow or torch
(``keras3-jax``, ``keras3-tensorflow``, ``keras3-torch``), each in a child process
(``peer_worker.py``) under ``--peer-python``, the Python that has them installed (they
need neither tkeras nor, but for keras3-torch, torch; e.g. a virtual environment with
``tensorflow-cpu tf-keras "jax[cpu]"``). A peer that cannot be imported there is reported
skipped. Their rows print the same ratios, so the best peer of each workload is measured
on the machine at hand; a last line names the fastest of the others (the torch loops and
the peers) and tkeras's ratio to it.

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
from typing import Callable, Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import fit_workloads  # noqa: E402
import peer_worker  # noqa: E402
import tkeras  # noqa: E402
from tkeras import layers  # noqa: E402


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# ------------------------------------------------------------------ workloads

class Workload:
    """One benchmark case: ``fit_workloads``'s Keras side (data, batch size, loss, the
    model built with tkeras) and the equivalent torch model, loss and target form."""

    def __init__(self, key: str, build_torch: Callable, torch_loss: nn.Module,
                 torch_target: Callable):
        spec = fit_workloads.SPECS[key]
        self.name = spec.name
        self.batch = spec.batch
        self.batches = spec.batches
        self.keras_loss = spec.loss
        self._build = spec.build
        self.build_torch = build_torch
        self.torch_loss = torch_loss
        self.torch_target = torch_target

    def build_keras(self):
        return self._build(tkeras)


def _mlp_torch():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _small_torch():
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 1))


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


class _LstmTorch(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 128)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.out = nn.Linear(128, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.out(h[-1])


def _class_index(y: torch.Tensor) -> torch.Tensor:
    return y.argmax(dim=1)


WORKLOADS = {
    "W1": lambda: Workload("W1", _mlp_torch, nn.CrossEntropyLoss(), _class_index),
    "W2": lambda: Workload("W2", _CnnTorch, nn.CrossEntropyLoss(), _class_index),
    "W3": lambda: Workload("W3", _LstmTorch, nn.BCEWithLogitsLoss(), lambda y: y),
    "W4": lambda: Workload("W4", _small_torch, nn.MSELoss(), lambda y: y),
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
    batches, x, y = fit_workloads.data(key, batch_scale)
    return WORKLOADS[key](), batches, x, y


class ChildRunner:
    """A loop timed in a child process (``--torch-process``'s torch loops, ``--peers``):
    the child says ``ready`` once built (or why it cannot run), then answers each epoch
    count written to it with its seconds per epoch, one line per request."""

    def __init__(self, command: List[str], env: Dict[str, str], what: str):
        self.what = what
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        # its start (imports, data) must not overlap anything timed here, warm-ups included
        self.greeting = self.process.stdout.readline().strip()

    def __call__(self, epochs: int) -> float:
        self.process.stdin.write(f"{epochs}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.what} process ended early")
        return float(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _plain_environment() -> Dict[str, str]:
    """This process's environment without tkeras's MKL choice (children start as a plain
    process would)."""
    return {k: v for k, v in os.environ.items() if k != "MKL_ENABLE_INSTRUCTIONS"}


def torch_child(key: str, device: str, batch_scale: float, fused: bool) -> ChildRunner:
    """A torch loop in a child process with torch's default MKL and malloc set-up."""
    env = _plain_environment()
    env["TKERAS_GEMM"] = "default"
    env["TKERAS_MALLOC"] = "default"  # glibc's malloc, as a plain torch process has
    command = [sys.executable, os.path.abspath(__file__), "--worker", key, "--device", device,
               "--scale", repr(batch_scale)] + (["--worker-fused"] if fused else [])
    child = ChildRunner(command, env, "torch worker")
    if child.greeting != "ready":
        child.close()
        raise RuntimeError("the torch worker process did not start")
    return child


def peer_child(python: str, key: str, peer: str, batch_scale: float) -> Optional[ChildRunner]:
    """``peer_worker.py`` under ``python``; None (and a line saying why) where the peer
    cannot run there."""
    worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_worker.py")
    child = ChildRunner([python, worker, key, peer, repr(batch_scale)], _plain_environment(),
                        f"{peer} worker")
    if not child.greeting.startswith("ready"):
        child.close()
        print(f"  {peer:<18} skipped: {child.greeting or 'its worker did not start'}")
        return None
    print(f"  {peer:<18} {child.greeting.split(' ', 2)[-1]} under {python}")
    return child


def worker_main(key: str, device: str, batch_scale: float, fused: bool) -> None:
    """The child side of ``torch_child``: reads epoch counts, prints s/epoch."""
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
            jit: bool = False, fused_opt: bool = False, torch_process: bool = False,
            peers: Sequence[str] = (), peer_python: str = sys.executable) -> Optional[Dict]:
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
    children: List[ChildRunner] = []
    print(f"{work.name}")
    try:
        for name, fused in (("torch", False), ("torch fused", True)):
            if torch_process:
                children.append(torch_child(key, device, batch_scale, fused))
                runners[name] = children[-1]
            else:
                runners[name] = torch_runner(work, x, y, device, fused=fused)
        for peer in peers:
            child = peer_child(peer_python, key, peer, batch_scale)
            if child is not None:
                children.append(child)
                runners[peer] = child
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
    for name in ("torch", "torch fused"):
        m = medians[name]
        print(f"  {name:<18} {m:8.4f} s/epoch ({m / batches * 1e3:7.3f} ms/step)")
    for name in (n for n in names if n not in ("torch", "torch fused")):
        m = medians[name]
        parts = []
        for base in ("torch", "torch fused"):
            ratio, low, high = _median_with_interval(
                [a / b for a, b in zip(times[name], times[base])])
            result["ratios"][f"{name} / {base}"] = (ratio, low, high)
            parts.append(f"ratio to {base} {ratio:5.2f}x ({low:.2f}-{high:.2f})")
        print(f"  {name:<18} {m:8.4f} s/epoch ({m / batches * 1e3:7.3f} ms/step)   "
              + "   ".join(parts) + f"   warm-up {warmup[name]:.1f} s{_how_compiled(runners[name])}")
    ran = [peer for peer in peers if peer in times]
    if ran:  # the goal: tkeras at or under the best peer
        best = min(["torch", "torch fused"] + ran, key=lambda n: medians[n])
        ratio, low, high = _median_with_interval(
            [a / b for a, b in zip(times["tkeras"], times[best])])
        result["ratios"][f"tkeras / best ({best})"] = (ratio, low, high)
        print(f"  best of the others: {best}; tkeras / {best} {ratio:5.2f}x ({low:.2f}-{high:.2f})")
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
    parser.add_argument("--peers", nargs="+", default=[], choices=peer_worker.PEERS,
                        help="also time these Keras peers (bench/peer_worker.py), each in a "
                        "child process under --peer-python")
    parser.add_argument("--peer-python", default=sys.executable,
                        help="the Python that has the peers installed (default: this one)")
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
                torch_process=args.torch_process, peers=args.peers, peer_python=args.peer_python)


if __name__ == "__main__":
    main()
