"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grey-scale images."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from ._files import fetch, npz_arrays

Split = Tuple[np.ndarray, np.ndarray]


def load_data(path: str = "mnist.npz") -> Tuple[Split, Split]:
    """Loads MNIST, downloading ``mnist.npz`` into ``~/.keras/datasets`` on first use.

    Args:
        path: where to cache the file (relative to ``~/.keras/datasets``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes ``(60000, 28, 28)``,
        ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    """
    path = fetch(path, "mnist.npz")
    x_train, y_train, x_test, y_test = npz_arrays(path, "x_train", "y_train", "x_test", "y_test")
    return (x_train, y_train), (x_test, y_test)
