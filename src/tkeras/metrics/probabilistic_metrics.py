"""Probabilistic metrics: the crossentropies, KL divergence and Poisson."""
from __future__ import annotations

from typing import Any, Optional

from ..losses import (
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from .reduction_metrics import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
    """

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
    """

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0, axis: int = -1):
        super().__init__(categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value left out of the mean.
        axis: the class axis.
    """

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: Optional[int] = None, axis: int = -1):
        super().__init__(sparse_categorical_crossentropy, name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "kullback_leibler_divergence", dtype: Any = None):
        super().__init__(kl_divergence, name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, name, dtype=dtype)
