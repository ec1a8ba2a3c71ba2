"""The Keras side of ``bench_fit.py``'s workloads, written once for every Keras: the seeded
data, the batch sizes, the losses and the models, built with whichever Keras module is
passed (``tkeras``, ``tf_keras``, Keras 3 on any backend). Imports numpy only, so that a
peer's Python (``peer_worker.py``, without torch or tkeras) can load it.

Workloads (float32, ``numpy.random.RandomState(0)`` data, Adam lr 1e-3):
  W1 mlp  784-512(relu)-512(relu)-10(softmax), batch 128, 60 batches/epoch
  W2 cnn  the seed-004 convnet on 32x32x3, batch 64, 20 batches/epoch
  W3 lstm Embedding(10000,128)-LSTM(128)-Dense(1,sigmoid), length 80, batch 64, 20 batches/epoch
  W4 small 20-64(relu)-64(relu)-1, batch 32, 200 batches/epoch (framework overhead)
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Tuple

import numpy as np

Arrays = Tuple[np.ndarray, np.ndarray]


class Spec(NamedTuple):
    """One workload's Keras side."""
    name: str
    batch: int
    batches: int  # per epoch
    loss: str
    make_data: Callable[[np.random.RandomState, int], Arrays]
    build: Callable[[Any], Any]  # a Keras module -> an uncompiled model


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype="float32")[labels]


def _mlp_data(rng: np.random.RandomState, n: int) -> Arrays:
    x = rng.rand(n, 784).astype("float32")
    return x, _one_hot(rng.randint(0, 10, n))


def _cnn_data(rng: np.random.RandomState, n: int) -> Arrays:
    x = rng.rand(n, 32, 32, 3).astype("float32")
    return x, _one_hot(rng.randint(0, 10, n))


def _lstm_data(rng: np.random.RandomState, n: int) -> Arrays:
    return (rng.randint(1, 10000, size=(n, 80)).astype("int32"),
            rng.randint(0, 2, size=(n, 1)).astype("float32"))


def _small_data(rng: np.random.RandomState, n: int) -> Arrays:
    return rng.rand(n, 20).astype("float32"), rng.rand(n, 1).astype("float32")


def _mlp(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((784,)), L.Dense(512, activation="relu"),
                             L.Dense(512, activation="relu"), L.Dense(10, activation="softmax")])


def _cnn(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        L.Conv2D(32, (3, 3), padding="same", activation="relu"),
        L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Dropout(0.25),
        L.Conv2D(64, (3, 3), padding="same", activation="relu"),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Dropout(0.25), L.Flatten(), L.Dense(512, activation="relu"), L.Dropout(0.5),
        L.Dense(10, activation="softmax")])


def _lstm(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((80,), dtype="int32"), L.Embedding(10000, 128),
                             L.LSTM(128), L.Dense(1, activation="sigmoid")])


def _small(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((20,)), L.Dense(64, activation="relu"),
                             L.Dense(64, activation="relu"), L.Dense(1)])


SPECS: Dict[str, Spec] = {
    "W1": Spec("W1 mlp 784-512-512-10", 128, 60, "categorical_crossentropy", _mlp_data, _mlp),
    "W2": Spec("W2 cnn 32x32x3", 64, 20, "categorical_crossentropy", _cnn_data, _cnn),
    "W3": Spec("W3 lstm emb-LSTM(128)", 64, 20, "binary_crossentropy", _lstm_data, _lstm),
    "W4": Spec("W4 small 20-64-64-1", 32, 200, "mse", _small_data, _small),
}


def data(key: str, batch_scale: float) -> Tuple[int, np.ndarray, np.ndarray]:
    """``(batches per epoch, x, y)``: ``batch_scale`` of the workload's batches (at least
    one), drawn from ``RandomState(0)``."""
    spec = SPECS[key]
    batches = max(1, int(round(spec.batches * batch_scale)))
    x, y = spec.make_data(np.random.RandomState(0), batches * spec.batch)
    return batches, x, y
