"""Runs every benchmark in bench/, one after another (never in parallel: a second busy
process slows torch's CPU kernels many times over), and prints their tables.

    python bench/run_all.py [--quick]

``--quick`` passes ``--quick`` to each script: a smoke run that the scripts work.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = ("bench_layer_overhead.py", "bench_conv.py", "bench_rnn.py", "bench_fit.py",
           "bench_augment.py", "bench_k_function.py", "bench_applications.py",
           "bench_mixed_precision.py")


def main(argv) -> int:
    quick = "--quick" in argv
    here = Path(__file__).resolve().parent
    failed = []
    for name in SCRIPTS:
        args = ["--quick"] if quick else []
        print(f"=== {name} {' '.join(args)}".rstrip(), flush=True)
        if subprocess.call([sys.executable, str(here / name), *args]) != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
