"""Regression metrics: squared, absolute, percentage and log errors, cosine similarity, RMSE."""
from __future__ import annotations

from typing import Any, Optional

import torch

from ..losses import (
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    squeeze_or_expand_dimensions,
)
from .base import TensorLike, _divide_no_nan
from .functions import cosine_similarity
from .reduction_metrics import Mean, MeanMetricWrapper


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean_squared_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(mean_squared_error, name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean_absolute_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(mean_absolute_error, name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``mean_absolute_percentage_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of ``mean_squared_logarithmic_error`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions (1 is best).

    Args:
        name: the metric's name.
        dtype: the state dtype.
        axis: the axis along which the similarity is computed.
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``logcosh`` over all samples.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(log_cosh, name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all elements.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Accumulates the squared errors.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional weights.
        """
        y_true = self._input(y_true, self.torch_dtype)
        y_pred = self._input(y_pred, self.torch_dtype)
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(_divide_no_nan(self.total, self.count))
