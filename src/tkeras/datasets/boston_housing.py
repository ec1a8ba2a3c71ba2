"""Boston housing prices: 506 samples of 13 features, the median home value as target."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from ._files import fetch, npz_arrays

Split = Tuple[np.ndarray, np.ndarray]


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2,
              seed: int = 113) -> Tuple[Split, Split]:
    """Loads the Boston housing data, shuffled with ``seed`` and split as Keras splits it.

    Args:
        path: where to cache the file (relative to ``~/.keras/datasets``).
        test_split: fraction of the data kept for the test part (0 <= test_split < 1).
        seed: seed of the shuffle before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 arrays; 404 / 102 samples with
        the defaults.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    path = fetch(path, "boston_housing.npz")
    x, y = npz_arrays(path, "x", "y")
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (np.array(x[:n_train]), np.array(y[:n_train])), (np.array(x[n_train:]),
                                                            np.array(y[n_train:]))
