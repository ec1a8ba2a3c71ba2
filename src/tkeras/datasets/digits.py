"""The UCI handwritten digits: 1,797 grey-scale 8x8 images of the digits 0-9.

The data ships inside the package (``digits.npz``, 45 kB), so nothing is downloaded.
Source and license (CC BY 4.0): see ``digits_README.txt`` next to this file.
"""
from __future__ import annotations

import os
from typing import Tuple

import numpy as np

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.npz")

Split = Tuple[np.ndarray, np.ndarray]


def load_data(test_split: float = 0.2, seed: int = 113) -> Tuple[Split, Split]:
    """Loads the digits, shuffled with a fixed seed and split into train and test parts.

    Args:
        test_split: fraction of the images kept for the test part (0 <= test_split < 1).
        seed: seed of the shuffle (the same seed always gives the same split).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` are uint8 arrays of shape
        ``(n, 8, 8)`` with values 0..16, ``y`` uint8 arrays of labels 0..9.

    Example:
        >>> from tkeras.datasets import digits
        >>> (x_train, y_train), (x_test, y_test) = digits.load_data()
        >>> x_train.shape, x_test.shape
        ((1438, 8, 8), (359, 8, 8))
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    with np.load(_PATH) as data:
        images, labels = data["images"], data["labels"]
    order = np.random.RandomState(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    n_train = len(images) - int(round(test_split * len(images)))
    return (images[:n_train], labels[:n_train]), (images[n_train:], labels[n_train:])
