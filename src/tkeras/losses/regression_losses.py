"""Regression loss classes: squared, absolute, percentage and log errors, Huber, cosine."""
from __future__ import annotations

from .base import LossFunctionWrapper, Reduction
from .functions import (
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors: ``mean(square(y_true - y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()`` (default ``"auto"``).
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: ``mean(abs(y_true - y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO,
                 name: str = "mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO,
                 name: str = "mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name)


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "log_cosh"):
        super().__init__(log_cosh, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    """Huber loss (quadratic for ``|error| <= delta``, linear beyond).

    Args:
        delta: the point where the loss turns from quadratic to linear.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, delta: float = 1.0, reduction: str = Reduction.AUTO,
                 name: str = "huber_loss"):
        super().__init__(huber, reduction=reduction, name=name, delta=delta)
        self.delta = delta


class CosineSimilarity(LossFunctionWrapper):
    """The negative cosine similarity along ``axis`` (-1 is best).

    Args:
        axis: the axis along which the similarity is computed.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "cosine_similarity"):
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=axis)
        self.axis = axis
