"""A peer Keras timing ``fit`` on one of ``bench_fit.py``'s workloads, in a child process of
``bench_fit.py --peers`` and under the peer's own Python (no torch or tkeras needed):

    PYTHON bench/peer_worker.py KEY PEER SCALE

PEER: ``tf-keras`` (the ``tf_keras`` package, Keras 2 on TensorFlow) or Keras 3 on a backend
(``keras3-jax``, ``keras3-tensorflow``, ``keras3-torch``). The model, data and batch size are
``fit_workloads.py``'s; the optimizer is Adam(1e-3), ``fit(verbose=0, shuffle=True)``, each
framework's defaults otherwise. Prints ``ready`` once built, then reads epoch counts, one a
line, and prints the seconds per epoch of a ``fit`` of that many epochs. A peer that cannot
be imported prints ``unavailable: <reason>`` and exits.
"""
from __future__ import annotations

import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fit_workloads

PEERS = ("tf-keras", "keras3-jax", "keras3-tensorflow", "keras3-torch")


def import_keras(peer: str):
    """The peer's Keras module (environment set before the import, as each one reads it)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if peer == "tf-keras":
        return importlib.import_module("tf_keras")
    os.environ["KERAS_BACKEND"] = peer[len("keras3-"):]
    keras = importlib.import_module("keras")
    if not keras.__version__.startswith("3."):
        raise ImportError(f"keras {keras.__version__} is not Keras 3")
    return keras


def main(key: str, peer: str, batch_scale: float) -> None:
    try:
        keras = import_keras(peer)
    except (ImportError, OSError, RuntimeError, AttributeError) as error:  # reported skipped
        print(f"unavailable: {type(error).__name__}: {error}".replace("\n", " "), flush=True)
        return
    spec = fit_workloads.SPECS[key]
    _, x, y = fit_workloads.data(key, batch_scale)
    model = spec.build(keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=spec.loss)
    print(f"ready {peer} {keras.__version__}", flush=True)
    for line in sys.stdin:
        epochs = int(line)
        start = time.perf_counter()
        model.fit(x, y, batch_size=spec.batch, epochs=epochs, verbose=0, shuffle=True)
        print((time.perf_counter() - start) / epochs, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
