"""Data parallel ``fit`` step time: N processes (``tkeras.distribute``, DDP) against 1 process,
for the same model and the same GLOBAL batch, as a ratio.

Run on a quiet machine:  python bench/bench_distributed.py [--processes N] [--quick]

With 2 or more GPUs it starts one process per GPU (NCCL) by default; without, 2 CPU
processes (gloo) sharing the machine's cores (each gets cores / N torch threads). On a
2-core CPU machine the ratio is poor (close to or above 1): the two processes split the
same two cores, so the per-process compute does not shrink, and gloo's all-reduce over
loopback is added to each step. It is a check that the path runs, not a speed-up; GPUs
(one per process) are where the ratio approaches 1/N. Each process is started as torchrun
would (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``); ``--quick`` uses a tiny
model and few steps: a smoke test that the script runs.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np


def _worker(args) -> None:
    import torch
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores // world))
    import tkeras
    from tkeras import callbacks, layers

    strategy = tkeras.distribute.DataParallel() if world > 1 else None
    torch.manual_seed(0)
    width = 64 if args.quick else 1024
    model = tkeras.Sequential([layers.Dense(width, activation="relu", input_shape=(width,)),
                               layers.Dense(width, activation="relu"), layers.Dense(10)])
    if torch.cuda.is_available():
        model.to(torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))))
    if strategy is not None:
        with strategy.scope():
            model.compile("sgd", "mse")
    else:
        model.compile("sgd", "mse")
    steps = 5 if args.quick else 200
    batch = 64 if args.quick else 512
    x = np.random.rand(steps * batch, width).astype("float32")
    y = np.random.rand(steps * batch, 10).astype("float32")

    class Clock(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.seconds = time.perf_counter() - self.start

    clock = Clock()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
    if tkeras.distribute.is_chief():
        print("RESULT " + json.dumps({"world": world, "step_s": clock.seconds / steps}),
              flush=True)
    # The DDP wrapper (in the model's trainer) holds the process group: free it before the
    # group is destroyed, or gloo's threads may outlive the interpreter and abort the exit.
    del model, clock
    gc.collect()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(world: int, quick: bool, on_gpus: bool) -> float:
    port = _free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        if not on_gpus:  # fewer GPUs than processes: both runs on the CPU, with gloo
            env["CUDA_VISIBLE_DEVICES"] = ""
        cmd = [sys.executable, os.path.abspath(__file__), "--worker"]
        cmd += ["--quick"] if quick else []
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p in procs:
        if p.returncode:
            raise SystemExit(f"a process of the {world}-process run failed ({p.returncode})")
    line = next(t for t in outputs[0].splitlines() if t.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])["step_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    import torch
    gpus = torch.cuda.device_count()
    n = args.processes or (gpus if gpus >= 2 else 2)
    on_gpus = gpus >= n
    where = f"{n} GPUs (nccl)" if on_gpus else f"CPU (gloo, {os.cpu_count()} cores)"
    one = _launch(1, args.quick, on_gpus)
    many = _launch(n, args.quick, on_gpus)
    print(f"fit step, same global batch, {where}: 1 process {one * 1e3:.2f} ms, "
          f"{n} processes {many * 1e3:.2f} ms")
    print(f"ratio {n}-process / 1-process step time: {many / one:.2f} (ideal {1 / n:.2f})")


if __name__ == "__main__":
    main()
