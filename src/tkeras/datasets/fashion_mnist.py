"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grey-scale images of 10 clothing kinds."""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Tuple

import numpy as np

from ._files import fetch

Split = Tuple[np.ndarray, np.ndarray]
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def _read_idx(path: str, magic: int, offset: int) -> np.ndarray:
    """The uint8 payload of a gzip'd IDX file (after its ``offset``-byte header)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path} is not a valid gzip'd IDX file ({e}).") from e
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        raise ValueError(f"{path} is not an IDX file of the expected kind: expected the magic "
                         f"number {magic}, found {found}.")
    return np.frombuffer(data, np.uint8, offset=offset)


def _images(path: str, count: int) -> np.ndarray:
    pixels = _read_idx(path, 2051, 16)
    if pixels.size != count * 28 * 28:
        raise ValueError(f"{path} holds {pixels.size} pixels; expected {count} images of 28x28.")
    return pixels.reshape(count, 28, 28)


def load_data() -> Tuple[Split, Split]:
    """Loads Fashion-MNIST, downloading its four IDX files into ``~/.keras/datasets/fashion-mnist``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes ``(60000, 28, 28)``,
        ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``; labels 0..9 (T-shirt/top, Trouser,
        Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    """
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [fetch(fname, fname, cache_subdir=dirname) for fname in FILES]
    y_train = _read_idx(paths[0], 2049, 8)
    x_train = _images(paths[1], len(y_train))
    y_test = _read_idx(paths[2], 2049, 8)
    x_test = _images(paths[3], len(y_test))
    return (x_train, y_train), (x_test, y_test)
