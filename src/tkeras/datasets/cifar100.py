"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 (or 20 coarse) classes."""
from __future__ import annotations

import os
from typing import Tuple

import numpy as np

from ._files import fetch
from .cifar import load_batch, to_image_format

Split = Tuple[np.ndarray, np.ndarray]


def load_data(label_mode: str = "fine") -> Tuple[Split, Split]:
    """Loads CIFAR-100, downloading and extracting it into ``~/.keras/datasets`` on first use.

    Args:
        label_mode: 'fine' (100 classes) or 'coarse' (20 super-classes).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape ``(n, 32, 32, 3)``
        (``(n, 3, 32, 32)`` when ``image_data_format()`` is 'channels_first'), y int64 of
        shape ``(n, 1)``.

    Example:
        >>> (x_train, y_train), _ = cifar100.load_data(label_mode="coarse")  # doctest: +SKIP
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode!r}")
    path = fetch("cifar-100-python", "cifar-100-python.tar.gz", untar=True)
    key = label_mode + "_labels"
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (to_image_format(x_train), y_train), (to_image_format(x_test), y_test)
