"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""
from __future__ import annotations

import os
from typing import Tuple

import numpy as np

from ._files import fetch
from .cifar import load_batch, to_image_format

Split = Tuple[np.ndarray, np.ndarray]


def load_data() -> Tuple[Split, Split]:
    """Loads CIFAR-10, downloading and extracting it into ``~/.keras/datasets`` on first use.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape ``(50000, 32, 32, 3)`` /
        ``(10000, 32, 32, 3)`` (``(n, 3, 32, 32)`` when ``image_data_format()`` is
        'channels_first'); y of shape ``(n, 1)``, uint8 for train and int64 for test, as in
        Keras 2.3.1.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    """
    dirname = "cifar-10-batches-py"
    path = fetch(dirname, "cifar-10-python.tar.gz", untar=True)
    batches = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in batches]).astype("uint8", copy=False)
    y_train = np.concatenate([np.asarray(y) for _, y in batches]).astype("uint8")
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (to_image_format(x_train), y_train), (to_image_format(x_test), y_test)
