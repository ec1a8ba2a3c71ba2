"""Numpy utilities of Keras 2: to_categorical, normalize."""
from __future__ import annotations

from typing import Optional

import numpy as np


def to_categorical(y, num_classes: Optional[int] = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encodes integer class labels.

    Args:
        y: integer labels (a trailing axis of size 1 is squeezed, as in Keras).
        num_classes: number of classes; ``max(y) + 1`` when None.
        dtype: dtype of the result.

    Returns:
        Array of shape ``y.shape + (num_classes,)``.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.], [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y, dtype="int64")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    y = y.ravel()
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical expects non-negative integer labels. Received a label "
                         f"value of {int(y.min())}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"Received a label value of {int(y.max())} which is outside the valid "
                         f"range of [0, {num_classes}).")
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Normalizes an array along ``axis`` by its ``order``-norm (zero norms are left as 0)."""
    x = np.asarray(x)
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
