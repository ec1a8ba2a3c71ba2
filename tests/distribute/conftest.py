"""Runs ``worker.py`` scenarios in 1 or 2 processes (gloo on 127.0.0.1, torchrun's
environment variables), with a deadline so that a hang fails the test instead of CI."""
import os
import pickle
import socket
import subprocess
import sys

import pytest

WORKER = os.path.join(os.path.dirname(__file__), "worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_processes(scenario: str, out_dir, world: int = 2, timeout: float = 120.0, **env_extra):
    """Runs ``scenario`` in ``world`` processes; returns each rank's results."""
    out_dir = str(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    port = free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1", **env_extra)
        procs.append(subprocess.Popen([sys.executable, WORKER, scenario, out_dir], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=timeout)[0].decode(errors="replace"))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail(f"scenario {scenario!r} did not finish in {timeout} s (a hang)")
    for rank, (p, text) in enumerate(zip(procs, outputs)):
        if p.returncode != 0:
            pytest.fail(f"rank {rank} of scenario {scenario!r} failed:\n{text[-4000:]}")
    results = []
    for rank in range(world):
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "rb") as f:
            results.append(pickle.load(f))
    return results


@pytest.fixture(scope="session")
def run_processes():
    """``run_processes(scenario, out_dir, world=2)``: each rank's results."""
    return _run_processes


SCENARIOS = "arrays,sequence,dataloader,stop_on_nan,plain,batchnorm,subclassed,on_batch"


@pytest.fixture(scope="session")
def runs(tmp_path_factory, run_processes):
    """One launch of 1 process and one of 2 processes running every scenario."""
    base = tmp_path_factory.mktemp("ddp")
    one = run_processes(SCENARIOS, base / "one", world=1)[0]
    two = run_processes(SCENARIOS + ",errors", base / "two", world=2)
    return one, two, base / "two"
