"""Accuracy metrics: ``Accuracy``, binary, categorical, sparse and top-k accuracy."""
from __future__ import annotations

from typing import Any

from .functions import (
    _top_k_categorical_matches,
    accuracy,
    binary_matches,
    categorical_accuracy,
    sparse_categorical_matches,
    sparse_top_k_categorical_matches,
)
from .reduction_metrics import MeanMetricWrapper

# =================================================================== wrappers of functions

class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels (element-wise).

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
        threshold: the decision threshold.
    """

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_matches, name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches the one-hot labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches the integer labels.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_matches, name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(_top_k_categorical_matches, name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None):
        super().__init__(sparse_top_k_categorical_matches, name, dtype=dtype, k=k)
